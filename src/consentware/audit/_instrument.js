/* consentware audit: report every cookie a page script writes, with the script's URL.
 * Runs before any page script in every frame (Playwright's init script). It wraps the
 * document.cookie setter and cookieStore.set/delete, and tells the audit through its binding;
 * the write itself goes through unchanged. */
(() => {
  "use strict";
  const report = (api, value) => {
    const stack = String(new Error().stack || "");
    const urls = stack.match(/(https?:\/\/[^\s()]+?):\d+:\d+/g) || [];
    const scripts = urls.map((u) => u.replace(/:\d+:\d+$/, ""));
    try {
      window.__consentwareCookieWrite({ api, value: String(value), stack: scripts });
    } catch (e) { /* the audit is gone: the page goes on */ }
  };
  const own = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (own && own.set) {
    Object.defineProperty(Document.prototype, "cookie", {
      configurable: true,
      enumerable: own.enumerable,
      get() { return own.get.call(this); },
      set(value) { report("document.cookie", value); own.set.call(this, value); },
    });
  }
  if (typeof CookieStore !== "undefined" && CookieStore.prototype.set) {
    const set = CookieStore.prototype.set;
    CookieStore.prototype.set = function (name, value) {
      const line = typeof name === "object" && name !== null
        ? `${name.name}=${name.value}` : `${name}=${value}`;
      report("cookieStore", line);
      return set.apply(this, arguments);
    };
  }
})();
