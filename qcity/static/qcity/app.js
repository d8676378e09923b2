// Small behaviours, kept out of the templates so the CSP can forbid inline script.
document.addEventListener("change", (event) => {
  if (event.target.classList.contains("js-autosubmit")) {
    event.target.form.submit();
  }
});
