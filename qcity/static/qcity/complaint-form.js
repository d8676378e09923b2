// The public complaint form's proof of work (qcity.complaints.pow, ADR 0036): find a nonce
// so that SHA-256(challenge + ":" + nonce) starts with `bits` zero bits, in the background
// while the person types. WebCrypto only; nothing is fetched from anywhere.
(() => {
  "use strict";
  for (const button of document.querySelectorAll(".js-print")) {
    button.addEventListener("click", () => window.print());
  }
  const form = document.querySelector("form[data-pow-form]");
  if (!form) return;
  const bits = Number.parseInt(form.dataset.powBits, 10) || 0;
  const challenge = form.querySelector("input[name=pow_challenge]").value;
  const nonceField = form.querySelector("input[name=pow_nonce]");
  const status = document.getElementById("pow-status");
  const say = (text) => { status.textContent = text; };

  const zeroBits = (bytes) => {
    let count = 0;
    for (const byte of bytes) {
      if (byte === 0) { count += 8; continue; }
      return count + Math.clz32(byte) - 24;
    }
    return count;
  };

  const solve = async () => {
    const encoder = new TextEncoder();
    for (let nonce = 0; ; nonce += 1) {
      const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`${challenge}:${nonce}`));
      if (zeroBits(new Uint8Array(digest)) >= bits) return String(nonce);
      // Yield now and then so the page stays responsive while it works.
      if (nonce % 5000 === 4999) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };

  if (!(window.crypto && crypto.subtle)) {
    say(form.dataset.powUnsupported);
    return;
  }
  say(form.dataset.powWorking);
  let waiting = false;
  const solving = solve().then((nonce) => {
    nonceField.value = nonce;
    say(form.dataset.powDone);
    if (waiting) form.requestSubmit();
  });
  form.addEventListener("submit", (event) => {
    if (nonceField.value) return;
    event.preventDefault();
    waiting = true;
    say(form.dataset.powWaiting);
    return solving;
  });
})();
