// huiqi web: small progressive enhancements (every page works without them).
// After htmx swaps a provision's rule into the panel, mark the selected provision and move focus there,
// so keyboard and screen-reader users land on what they asked for.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (!target || target.id !== "rule-panel") return;
  var selected = target.getAttribute("data-provision") || "";
  var panelHead = target.querySelector("h2");
  document.querySelectorAll("a.prov").forEach(function (link) {
    link.setAttribute("aria-current", link.getAttribute("data-provision") === selected ? "true" : "false");
  });
  if (panelHead) { panelHead.setAttribute("tabindex", "-1"); panelHead.focus({ preventScroll: window.innerWidth > 860 }); }
});
