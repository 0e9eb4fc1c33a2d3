// Shows, under each long text, how many characters it has without counting spaces (how the
// rules count them). The form works the same without this script.
"use strict";
document.querySelectorAll("textarea[data-max]").forEach(function (area) {
  var out = document.querySelector('.contador[data-for="' + area.id + '"]');
  if (!out) return;
  var max = parseInt(area.getAttribute("data-max"), 10);
  function update() {
    var n = area.value.replace(/\s/g, "").length;
    out.textContent = n + " de " + max + " caracteres (sin contar espacios)";
    out.classList.toggle("excedido", n > max);
  }
  area.addEventListener("input", update);
  update();
});
