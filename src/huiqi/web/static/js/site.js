// huiqi web: small progressive enhancements (every page works without them).
// After htmx puts a provision's rule into the panel (hx-swap="outerHTML"), mark the selected provision in the
// text and move focus to the panel's heading, so keyboard and screen-reader users land on what they asked for.
document.addEventListener("htmx:afterSettle", function () {
  var panel = document.getElementById("rule-panel");
  if (!panel) return;
  var selected = panel.getAttribute("data-provision") || "";
  document.querySelectorAll("a.prov").forEach(function (link) {
    link.setAttribute("aria-current", link.getAttribute("data-provision") === selected ? "true" : "false");
  });
  var head = panel.querySelector("h2");
  if (head && selected) {
    head.setAttribute("tabindex", "-1");
    head.focus({ preventScroll: window.innerWidth > 860 });
  }
});

// On a narrow screen the rule panel sits above the text: a page opened on a provision shows its rule first.
// (After "load": the browser has scrolled to the provision's #anchor by then, which this overrides.)
window.addEventListener("load", function () {
  var panel = document.getElementById("rule-panel");
  if (!panel || !panel.getAttribute("data-provision") || window.innerWidth > 860) return;
  window.requestAnimationFrame(function () { panel.scrollIntoView(); });
});
