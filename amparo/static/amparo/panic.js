// Adds the phone's location to the panic form when the person allows it. The form works
// without this file: the alert goes out either way.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.panic");
  if (!form || !("geolocation" in navigator)) return;
  const status = document.getElementById("location-status");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      form.querySelector("[name=latitude]").value = position.coords.latitude.toFixed(5);
      form.querySelector("[name=longitude]").value = position.coords.longitude.toFixed(5);
      if (status) status.dataset.located = "yes";
    },
    () => {},
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
  );
});
