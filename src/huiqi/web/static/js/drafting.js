// 政策起草审核: pointing at a provision (its card or its quote in the source) highlights the other side;
// clicking a quote in the source scrolls to the provision's card.
(function () {
  "use strict";
  function mark(id, on) {
    document.querySelectorAll('[data-provision="' + CSS.escape(id) + '"]').forEach(function (el) {
      el.classList.toggle("active", on);
    });
  }
  document.querySelectorAll(".drafting-provision, .drafting-text [data-provision]").forEach(function (el) {
    var id = el.getAttribute("data-provision");
    el.addEventListener("mouseenter", function () { mark(id, true); });
    el.addEventListener("mouseleave", function () { mark(id, false); });
  });
  document.querySelectorAll(".drafting-text [data-provision]").forEach(function (el) {
    el.addEventListener("click", function () {
      var card = document.getElementById("p-" + el.getAttribute("data-provision"));
      if (card) { card.scrollIntoView({ behavior: "smooth", block: "start" }); }
    });
  });
})();
