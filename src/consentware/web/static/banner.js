/* consentware banner enhancement. The banner works without this file: it is a plain form.
 * With it, choices are posted as JSON with fetch, the banner hides without a reload, and any
 * element marked data-consentware-settings re-opens it. A "consentware:change" event carries
 * the new state ({decided, granted, pending, gpc, ...}) to page scripts.
 *
 * Keyboard: Escape closes the "Choose cookies" disclosure and puts the focus back on it; on a
 * re-opened banner, Escape (or Close) hides it and puts the focus back on what opened it.
 * While the banner floats over the bottom of the window, the page gets as much room below it
 * and as much scroll padding, so no content, and nothing focused, stays hidden under it. */
(function () {
  "use strict";

  var opener = null;
  var spacer = null;

  function banner() {
    return document.querySelector("[data-consentware-banner]");
  }

  function floating(root) {
    return root && !root.classList.contains("consentware--page");
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

  // The room the floating banner takes at the bottom of the window, given back to the page.
  function reserve() {
    var root = banner();
    var html = document.documentElement;
    if (!floating(root) || root.hidden || !document.body) {
      html.classList.remove("consentware-open");
      html.style.removeProperty("--consentware-space");
      if (spacer && spacer.parentNode) {
        spacer.parentNode.removeChild(spacer);
      }
      return;
    }
    var top = root.getBoundingClientRect().top;
    var space = Math.max(0, Math.ceil(window.innerHeight - top)) + 16;
    html.style.setProperty("--consentware-space", space + "px");
    html.classList.add("consentware-open");
    if (!spacer) {
      spacer = document.createElement("div");
      spacer.className = "consentware-spacer";
      spacer.setAttribute("aria-hidden", "true");
    }
    if (spacer.parentNode !== document.body) {
      document.body.appendChild(spacer);
    }
  }

  function show(root) {
    root.hidden = false;
    reserve();
    var first = root.querySelector(".consentware__actions button") || root.querySelector("summary");
    if (first) {
      first.focus();
    }
  }

  function hide(root) {
    root.hidden = true;
    reserve();
    var back = opener && document.contains(opener) ? opener : null;
    opener = null;
    if (back) {
      back.focus();
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
      var status = document.querySelector("[data-consentware-status]");
      if (status) {
        status.textContent = root.getAttribute("data-consentware-saved") || "";
      }
      if (floating(root)) {
        hide(root);
      }
      document.dispatchEvent(new CustomEvent("consentware:change", { detail: state }));
    }).catch(function () {
      fallback(form, action);
    });
  }

  function onClick(event) {
    var target = event.target;
    var root = banner();
    if (!target || !target.closest || !root) {
      return;
    }
    if (target.closest("[data-consentware-close]") && root.dataset.dismissible === "true") {
      hide(root);
      return;
    }
    var settings = target.closest("[data-consentware-settings]");
    if (!settings) {
      return;
    }
    event.preventDefault();
    opener = settings;
    var details = root.querySelector("details");
    if (details) {
      details.open = true;
    }
    root.dataset.dismissible = "true";
    var close = root.querySelector("[data-consentware-close]");
    if (close) {
      close.hidden = false;
    }
    show(root);
  }

  function onKey(event) {
    if (event.key !== "Escape" && event.key !== "Esc") {
      return;
    }
    var root = banner();
    if (!floating(root) || root.hidden) {
      return;
    }
    var details = root.querySelector("details");
    var focused = document.activeElement;
    if (details && details.open && focused && details.contains(focused)) {
      details.open = false;
      var summary = details.querySelector("summary");
      if (summary) {
        summary.focus();
      }
      event.preventDefault();
      return;
    }
    if (root.dataset.dismissible === "true") {
      event.preventDefault();
      hide(root);
    }
  }

  document.addEventListener("submit", onSubmit);
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey);
  document.documentElement.classList.add("consentware-js");
  var root = banner();
  if (floating(root)) {
    if (window.ResizeObserver) {
      new ResizeObserver(reserve).observe(root);
    }
    window.addEventListener("resize", reserve);
    reserve();
  }
}());
