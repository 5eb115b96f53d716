// 审核工作台: "再加一项" adds a row to the 一次性告知 list (without JavaScript the form has five rows, enough for
// most returns; the server keeps whatever was typed when it refuses).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.fix-form").forEach(function (form) {
    var button = form.querySelector("button.add-fix");
    var list = form.querySelector("fieldset.fix-list");
    if (!button || !list) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = list.querySelectorAll(".fix-row");
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      var number = rows.length + 1;
      copy.querySelectorAll("input").forEach(function (input) {
        var kind = input.name === "field" ? "field" : "problem";
        input.id = "fix-" + kind + "-" + number;
        input.value = "";
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      });
      copy.querySelectorAll(".field").forEach(function (field) { field.classList.remove("invalid"); });
      copy.querySelectorAll("label").forEach(function (label) {
        var kind = label.htmlFor.indexOf("field") >= 0 ? "field" : "problem";
        label.htmlFor = "fix-" + kind + "-" + number;
        label.textContent = "第" + number + "项 " + (kind === "field" ? "涉及的材料或信息" : "问题和补正要求");
      });
      list.appendChild(copy);
      copy.querySelector("input").focus();
    });
  });
});
