// lgan book: click a figure to open it at full size (its natural width) in a new tab.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("article.bd-article figure img").forEach(function (img) {
    if (img.closest("a")) return;
    var link = document.createElement("a");
    link.href = img.getAttribute("src");
    link.target = "_blank";
    link.title = "Open the figure at full size";
    link.className = "lgan-figure-link";
    img.parentNode.insertBefore(link, img);
    link.appendChild(img);
  });
});
