/* Duban's small page behaviours, named by data attributes on the element: the
   Content-Security-Policy forbids inline handlers (onchange=, onclick=) and htmx's hx-on (eval). */
(function () {
  "use strict";
  // <select data-autosubmit>: choosing an option submits its form (a <noscript> button may stand in).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();
    }
  });
  // <button data-print>: prints the page (the print stylesheet lays it out).
  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-print]")) {
      window.print();
    }
  });
  // [data-disable-after-request]: an htmx control used once (the tree's "+"), disabled after its answer.
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = event.target;
    if (el instanceof HTMLButtonElement && el.hasAttribute("data-disable-after-request")) {
      el.disabled = true;
    }
  });
})();
