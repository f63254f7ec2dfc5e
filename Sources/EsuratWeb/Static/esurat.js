// Progressive enhancement only: every form works without this file.
// A form marked one-shot disables its buttons once sent, so a second tap cannot send it
// again before the page changes (the server also refuses a second signature by the form's
// one-time key).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("one-shot")) return;
  if (form.dataset.sent === "1") { event.preventDefault(); return; }
  form.dataset.sent = "1";
  form.querySelectorAll("button").forEach(function (button) { button.setAttribute("aria-disabled", "true"); });
});
