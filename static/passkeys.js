// Passkeys (WebAuthn) for staff: adding one on the account page, logging in with one.
// Buttons carry data-passkey="register|login", data-options and data-submit (URLs) and
// data-csrf; without JavaScript or WebAuthn they stay hidden and codes still work.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !window.fetch) { return; }

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, csrf, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body || {})});
  }
  function asJSON(cred) {
    var r = cred.response, out = {id: cred.id, rawId: toText(cred.rawId), type: cred.type,
      response: {clientDataJSON: toText(r.clientDataJSON)}};
    if (r.attestationObject) { out.response.attestationObject = toText(r.attestationObject); }
    if (r.authenticatorData) {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      if (r.userHandle) { out.response.userHandle = toText(r.userHandle); }
    }
    return out;
  }
  function run(button) {
    var status = document.getElementById(button.getAttribute("data-status"));
    var csrf = button.getAttribute("data-csrf");
    var register = button.getAttribute("data-passkey") === "register";
    post(button.getAttribute("data-options"), csrf).then(function (r) { return r.json(); })
      .then(function (o) {
        o.challenge = toBytes(o.challenge);
        if (register) {
          o.user.id = toBytes(o.user.id);
          (o.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
          return navigator.credentials.create({publicKey: o});
        }
        (o.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
        return navigator.credentials.get({publicKey: o});
      })
      .then(function (cred) {
        var name = document.getElementById("passkey-name");
        return post(button.getAttribute("data-submit"), csrf,
                    {credential: asJSON(cred), name: name ? name.value : ""});
      })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.redirect) { window.location.assign(answer.redirect); }
        else if (status) { status.textContent = answer.error || ""; }
      })
      .catch(function () { if (status) { status.textContent = button.getAttribute("data-failed"); } });
  }
  document.querySelectorAll("[data-passkey-offer]").forEach(function (block) {
    block.hidden = false;
  });
  document.querySelectorAll("[data-passkey]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { run(button); });
  });
}());
