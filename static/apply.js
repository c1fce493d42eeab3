// Adds an empty education row (the form works without this: three rows are served).
(function () {
  var button = document.getElementById("add-education");
  if (!button) { return; }
  var MAX = 10;
  button.hidden = false;
  button.addEventListener("click", function () {
    var rows = document.querySelectorAll("#education .education-row");
    if (rows.length >= MAX) { button.disabled = true; return; }
    var copy = rows[rows.length - 1].cloneNode(true);
    var index = rows.length;
    copy.querySelectorAll("input, label").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(/education-\d+-/, "education-" + index + "-")); }
      });
      if (el.tagName === "INPUT") { el.value = ""; }
    });
    copy.querySelectorAll("ul.errors").forEach(function (ul) { ul.remove(); });
    rows[rows.length - 1].after(copy);
    if (index + 1 >= MAX) { button.disabled = true; }
  });
})();
