// 发布申报批次 (/desk/official/calls/new): choosing a document opens its provisions and folds the others'.
// The page works without it (each document's provisions open with a click).
(function () {
  "use strict";
  var select = document.getElementById("document_id");
  if (!select) {
    return;
  }
  select.addEventListener("change", function () {
    document.querySelectorAll("details.ob-provisions").forEach(function (details) {
      details.open = details.getAttribute("data-document") === select.value;
    });
  });
})();
