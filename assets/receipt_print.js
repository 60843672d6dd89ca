// The receipt's Print button. A file, not an inline onclick: the Content-Security-Policy
// allows no inline event handlers.
document.getElementById("print-receipt")?.addEventListener("click", () => window.print());
