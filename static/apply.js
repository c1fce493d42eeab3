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

// The error summary (templates/_forms.html): focused when the page comes back with
// errors (autofocus does it in most browsers), and each of its links moves the focus
// to its field, not only the view (a label or fieldset above stays in sight).
(function () {
  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  if (document.activeElement !== summary) { summary.focus(); }
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) { return; }
    event.preventDefault();
    var group = target.closest("fieldset");
    var legend = group && group.querySelector("legend");
    (legend || target).scrollIntoView();
    target.focus({ preventScroll: true });
  });
})();
