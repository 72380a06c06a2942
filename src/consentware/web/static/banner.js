/* consentware banner enhancement. The banner works without this file: it is a plain form.
 * With it, choices are posted as JSON with fetch, the banner hides without a reload, and any
 * element marked data-consentware-settings re-opens it. A "consentware:change" event carries
 * the new state ({decided, granted, pending, gpc, ...}) to page scripts. */
(function () {
  "use strict";

  function banner() {
    return document.querySelector("[data-consentware-banner]");
  }

  function boxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="category"]'));
  }

  function grantedFor(form, action) {
    var all = boxes(form).filter(function (box) { return !box.disabled; });
    if (action === "accept_all") {
      return all.map(function (box) { return box.value; });
    }
    if (action === "reject_all") {
      return [];
    }
    return all.filter(function (box) { return box.checked; }).map(function (box) {
      return box.value;
    });
  }

  function show(root) {
    root.hidden = false;
    var first = root.querySelector(".consentware__actions button, summary, input");
    if (first) {
      first.focus();
    }
  }

  function reflect(form, state) {
    boxes(form).forEach(function (box) {
      if (!box.disabled) {
        box.checked = state.granted.indexOf(box.value) !== -1;
      }
    });
  }

  function fallback(form, action) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "action";
    field.value = action;
    form.appendChild(field);
    HTMLFormElement.prototype.submit.call(form);
  }

  function onSubmit(event) {
    var form = event.target;
    var root = banner();
    if (!root || !root.contains(form) || !window.fetch) {
      return;
    }
    var submitter = event.submitter;
    var action = submitter && submitter.name === "action" ? submitter.value : "save";
    event.preventDefault();
    // The buttons named "action" shadow the form's action property: read the attribute.
    fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ granted: grantedFor(form, action) })
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("consent not saved: " + response.status);
      }
      return response.json();
    }).then(function (state) {
      reflect(form, state);
      var status = root.querySelector(".consentware__status");
      if (status) {
        status.textContent = "Your choices are saved.";
      }
      if (!root.classList.contains("consentware--page")) {
        root.hidden = true;
      }
      document.dispatchEvent(new CustomEvent("consentware:change", { detail: state }));
    }).catch(function () {
      fallback(form, action);
    });
  }

  function closeButton(root) {
    return root.querySelector("[data-consentware-close]");
  }

  function dismiss(root) {
    root.hidden = true;
    var opener = document.querySelector("[data-consentware-settings]");
    if (opener) {
      opener.focus();
    }
  }

  function onClick(event) {
    var target = event.target;
    var root = banner();
    if (!target || !target.closest || !root) {
      return;
    }
    if (target.closest("[data-consentware-close]") && root.dataset.dismissible === "true") {
      dismiss(root);
      return;
    }
    if (!target.closest("[data-consentware-settings]")) {
      return;
    }
    event.preventDefault();
    var details = root.querySelector("details");
    if (details) {
      details.open = true;
    }
    root.dataset.dismissible = "true";
    var close = closeButton(root);
    if (close) {
      close.hidden = false;
    }
    show(root);
  }

  function onKey(event) {
    var root = banner();
    if (event.key === "Escape" && root && !root.hidden && root.dataset.dismissible === "true") {
      dismiss(root);
    }
  }

  document.addEventListener("submit", onSubmit);
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey);
  document.documentElement.classList.add("consentware-js");
}());
