// The console's small conveniences. Every one of them works without this file: the saved
// reply picker is a GET form that pre-fills the reply box, and article links are shown to copy.
(function () {
  "use strict";

  function insertAt(box, text) {
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    var after = box.value.slice(end);
    box.value = before + text + after;
    box.selectionStart = box.selectionEnd = start + text.length;
    box.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("body");
    if (!box) {
      return;
    }
    document.querySelectorAll("button.insert-link").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        insertAt(box, button.getAttribute("data-insert"));
      });
    });
    var picker = document.querySelector("form.saved-reply-picker");
    var savedId = document.getElementById("saved_reply_id");
    if (!picker || !savedId) {
      return;
    }
    picker.addEventListener("submit", function (event) {
      var choice = picker.querySelector("select").value;
      var url = picker.getAttribute("data-reply-url").replace(/\/0$/, "/" + choice);
      event.preventDefault();
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().then(function (answer) {
            if (!response.ok) {
              throw new Error(answer.error || "That saved reply cannot be used.");
            }
            insertAt(box, answer.text);
            savedId.value = String(answer.id);
          });
        })
        .catch(function () {
          picker.submit(); // the page says why, as it does without JavaScript
        });
    });
  });
})();
