// The scheme item editor: show the chosen rule kind's fields, and preview the rule sentence
// as one types (GET data-preview with the form's fields; the server writes the sentence).
(function () {
  "use strict";
  var form = document.getElementById("item-form");
  if (!form) return;
  var kind = document.getElementById("id_kind");
  var out = document.getElementById("rule-preview");
  var timer = null;
  function show() {
    form.querySelectorAll("fieldset[data-kind]").forEach(function (set) {
      // A hidden kind's fields are disabled: neither checked nor sent with the form.
      var other = set.getAttribute("data-kind") !== kind.value;
      set.hidden = other;
      set.disabled = other;
    });
  }
  function preview() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key === "csrfmiddlewaretoken" || key.indexOf("target-") === 0) return;
      if (typeof value === "string") params.append(key, value);
    });
    fetch(form.getAttribute("data-preview") + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (text) { if (text) out.textContent = text; });
  }
  function later() { clearTimeout(timer); timer = setTimeout(preview, 250); }
  kind.addEventListener("change", function () { show(); preview(); });
  form.addEventListener("input", later);
  show();
})();
