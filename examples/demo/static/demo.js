/* The demo's own page script: it sets one cookie itself (document.cookie), which no server
 * can filter. It asks the consent route first and sets it only when preferences are granted;
 * had it not asked, consentware would expire the cookie on the next response anyway. */
(function () {
  "use strict";
  var note = document.getElementById("script-cookie");

  function say(text) {
    if (note) {
      note.textContent = text;
    }
  }

  function apply(state, after) {
    if (state.granted.indexOf("first_party") !== -1) {
      document.cookie = "demo_layout=wide; path=/; max-age=31536000; samesite=lax";
      say("demo.js set demo_layout: preferences are granted." + after);
    } else {
      say("demo.js did not set demo_layout: preferences are not granted." + after);
    }
  }

  fetch("/_consent", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.json(); })
    .then(function (state) { apply(state, ""); })
    .catch(function () { say("demo.js could not read the consent."); });

  document.addEventListener("consentware:change", function (event) {
    apply(event.detail, " Choice saved: reload to see what the server lets out now.");
  });
}());
