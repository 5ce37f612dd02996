// Amparo works without JavaScript; this file only adds small conveniences.
// No inline scripts anywhere: the Content-Security-Policy forbids them.
document.addEventListener("DOMContentLoaded", () => {
  // Submit the language switcher as soon as a language is picked.
  const select = document.getElementById("language-select");
  if (select) select.addEventListener("change", () => select.form.submit());
});
