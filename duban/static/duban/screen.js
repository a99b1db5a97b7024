// The dispatch-meeting screen: step through the units' slides with the keyboard or a clicker.
// → ↓ PageDown space: next; ← ↑ PageUp: previous (clickers send PageUp/PageDown); Home/End;
// F: full screen. The slide number lives in the URL hash (#3), so a reload keeps the slide.
(function () {
  "use strict";
  const slides = Array.from(document.querySelectorAll(".slide"));
  if (slides.length === 0) {
    return;
  }
  const baseTitle = document.title;
  let current = 0;

  function fromHash() {
    const n = parseInt(window.location.hash.replace("#", ""), 10);
    return Number.isInteger(n) && n >= 1 && n <= slides.length ? n - 1 : 0;
  }

  function show(index) {
    current = Math.max(0, Math.min(slides.length - 1, index));
    slides.forEach(function (slide, i) {
      slide.hidden = i !== current;
    });
    const hash = "#" + (current + 1);
    if (window.location.hash !== hash) {
      window.history.replaceState(null, "", hash);
    }
    const name = slides[current].dataset.unit;
    if (name) {
      document.title = name + " · " + baseTitle;
    }
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(function () {});
    } else if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () {});
    }
  }

  const keys = {
    ArrowRight: 1, ArrowDown: 1, PageDown: 1, " ": 1, Spacebar: 1,
    ArrowLeft: -1, ArrowUp: -1, PageUp: -1,
  };

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    const target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) {
      return;
    }
    if (event.key in keys) {
      event.preventDefault();
      show(current + keys[event.key]);
    } else if (event.key === "Home") {
      event.preventDefault();
      show(0);
    } else if (event.key === "End") {
      event.preventDefault();
      show(slides.length - 1);
    } else if (event.key === "f" || event.key === "F") {
      event.preventDefault();
      toggleFullscreen();
    }
  });

  document.querySelectorAll("[data-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      show(current + parseInt(button.dataset.step, 10));
      button.blur();
    });
  });
  document.querySelectorAll("[data-fullscreen]").forEach(function (button) {
    button.addEventListener("click", function () {
      toggleFullscreen();
      button.blur();
    });
  });
  window.addEventListener("hashchange", function () {
    show(fromHash());
  });
  show(fromHash());
})();
