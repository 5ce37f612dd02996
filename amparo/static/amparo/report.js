// "Use my location" on the report form: fills latitude and longitude from the phone when
// the person asks. The form works without this file; the fields can be typed or left empty.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("use-location");
  if (!button || !("geolocation" in navigator)) return;
  const status = document.getElementById("location-status");
  button.hidden = false;
  button.addEventListener("click", () => {
    navigator.geolocation.getCurrentPosition(
      (position) => {
        document.getElementById("id_lat").value = position.coords.latitude.toFixed(5);
        document.getElementById("id_lon").value = position.coords.longitude.toFixed(5);
        if (status) status.textContent = button.dataset.done;
      },
      () => {
        if (status) status.textContent = button.dataset.failed;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
});
