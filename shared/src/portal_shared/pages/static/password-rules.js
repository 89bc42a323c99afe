// Ticks each password rule as it is met while the person types (the form works without it:
// the server checks the same rules and names every broken one).
(function () {
  "use strict";
  var input = document.querySelector("input[data-password-rules]");
  var list = document.getElementById(input ? input.getAttribute("data-password-rules") : "");
  if (!input || !list) { return; }
  var tests = {
    too_short: function (v) { return v.length >= 12; },
    contains_space: function (v) { return v.length > 0 && !/\s/.test(v); },
    missing_uppercase: function (v) { return /\p{Lu}/u.test(v); },
    missing_lowercase: function (v) { return /\p{Ll}/u.test(v); },
    missing_digit: function (v) { return /\p{Nd}/u.test(v); },
    missing_symbol: function (v) { return /[^\p{L}\p{Nd}\s]/u.test(v); }
  };
  var status = list.getAttribute("data-met-label") || "met";
  function update() {
    var items = list.querySelectorAll("li[data-rule]");
    for (var i = 0; i < items.length; i++) {
      var rule = items[i].getAttribute("data-rule");
      var met = tests[rule] ? tests[rule](input.value) : false;
      items[i].classList.toggle("met", met);
      var mark = items[i].querySelector(".rule-status");
      if (mark) { mark.textContent = met ? " (" + status + ")" : ""; }
    }
  }
  input.addEventListener("input", update);
  update();
})();
