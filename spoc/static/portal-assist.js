// Suggestions as the requester types: on the "check for answers" page, and beside a request
// form's first text box. Without this file the page's GET form shows the same suggestions.
(function () {
  "use strict";

  function element(tag, text, attributes) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    return node;
  }

  function render(box, found, csrf, text) {
    box.textContent = "";
    if (found.articles.length) {
      var kb = element("section", "", { "class": "kb" });
      kb.appendChild(element("h2", "Articles that may answer it"));
      var list = element("ul");
      found.articles.forEach(function (a) {
        var item = element("li");
        item.appendChild(element("a", a.title, { href: a.url }));
        item.appendChild(element("p", a.summary));
        list.appendChild(item);
      });
      kb.appendChild(list);
      box.appendChild(kb);
    }
    if (found.answers.length) {
      var replies = element("section", "", { "class": "box" });
      replies.appendChild(element("h2", "What we answered to similar requests"));
      found.answers.forEach(function (a) {
        var figure = element("figure", "", { "class": "past-answer" });
        figure.appendChild(element("blockquote", a.body));
        figure.appendChild(element("figcaption", "Our reply to a similar request (" + a.type + ")"));
        if (csrf && !a.answered) {
          var form = element("form", "", { method: "post", action: box.getAttribute("data-answered-url"), "class": "inline-actions" });
          form.appendChild(element("input", "", { type: "hidden", name: "csrf_token", value: csrf }));
          form.appendChild(element("input", "", { type: "hidden", name: "answer", value: String(a.id) }));
          form.appendChild(element("input", "", { type: "hidden", name: "q", value: text }));
          form.appendChild(element("button", "This answered my question", { type: "submit", "class": "secondary" }));
          figure.appendChild(form);
        }
        replies.appendChild(figure);
      });
      box.appendChild(replies);
    }
    if (found.types.length && box.getAttribute("data-show-types") === "yes") {
      var types = element("section");
      types.appendChild(element("h2", "Still need help? File it as"));
      var line = element("p", "", { "class": "next" });
      found.types.forEach(function (t, i) {
        line.appendChild(element("a", t.title, { href: t.url, "class": i ? "button secondary" : "button" }));
        line.appendChild(document.createTextNode(" "));
      });
      types.appendChild(line);
      box.appendChild(types);
    }
  }

  function follow(input, box, url, csrf) {
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var text = input.value.trim();
        if (text.length < 8 || text === asked) { return; }
        asked = text;
        fetch(url + "?q=" + encodeURIComponent(text), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (found) { if (text === asked && !found.error) { render(box, found, csrf, text); } })
          .catch(function () { /* the form still works without suggestions */ });
      }, 350);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("assist-results");
    if (!box) { return; }
    var url = box.getAttribute("data-suggestions-url");
    var csrf = box.getAttribute("data-csrf");
    var input = document.getElementById("q") || document.querySelector(".request-form textarea");
    if (input && url) { follow(input, box, url, csrf); }
  });
})();
