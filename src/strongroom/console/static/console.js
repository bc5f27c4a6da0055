// Strongroom console: small touches on top of pages that work without JavaScript.
"use strict";

// Times: the page says them in UTC; show them in the reader's own time zone, UTC on hover.
function localTimes(root) {
  const format = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
  for (const el of root.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) el.textContent = format.format(when);
  }
}

// Uploads: a progress bar filled as the file goes up (htmx reports the XHR's progress).
function uploadProgress(event) {
  const form = event.target.closest("form[data-upload]");
  if (!form) return;
  const bar = form.querySelector("progress");
  if (bar && event.detail.total) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
}

// Uploads refused (422): show the form again with why, as it is shown without JavaScript
// (htmx swaps no 4xx answer by itself).
function showRefusedUpload(event) {
  if (event.detail.xhr.status === 422 && event.target.closest("form[data-upload]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
}

// Forms that need a name typed to confirm: the button waits for the exact name.
function typedConfirmations(root) {
  for (const form of root.querySelectorAll("form[data-confirm-name]")) {
    const input = form.querySelector("input[name=confirm_name]");
    const button = form.querySelector("button[type=submit]");
    if (!input || !button) continue;
    const check = () => { button.disabled = input.value !== form.dataset.confirmName; };
    input.addEventListener("input", check);
    check();
  }
}

function enhance(root) {
  localTimes(root);
  typedConfirmations(root);
}

document.addEventListener("DOMContentLoaded", () => enhance(document));
document.addEventListener("htmx:load", (event) => enhance(event.target));
document.addEventListener("htmx:xhr:progress", uploadProgress);
document.addEventListener("htmx:beforeSwap", showRefusedUpload);
