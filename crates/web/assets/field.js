// casetrail: the field officer's device in the browser (/field).
//
// The device key is an Ed25519 key pair made with WebCrypto; the private
// key is not extractable and is kept as a CryptoKey in IndexedDB, so it
// never leaves this browser. A protocol is the exchange format's
// `fine.protocol_signed` record; its signature covers the RFC 8785 (JCS)
// bytes of the whole record without `signature`, exactly as the server's
// projector checks it against the device enrolled for the agency.
// Protocols wait in IndexedDB until the server has answered, so a protocol
// signed without a network is sent when the network is back; sending one
// twice is harmless (the record's `id` makes it a duplicate).
//
// Every word shown comes from the page (data- attributes rendered from the
// translations); this file holds none.
(function () {
  "use strict";

  var root = document.getElementById("field");
  if (!root) {
    return;
  }
  var data = root.dataset;
  var DB_NAME = "casetrail-field";

  function byId(id) {
    return document.getElementById(id);
  }

  function show(id, text) {
    var element = byId(id);
    if (!element) {
      return;
    }
    element.textContent = text;
    element.hidden = !text;
  }

  function hex(bytes) {
    return Array.prototype.map
      .call(bytes, function (b) {
        return b.toString(16).padStart(2, "0");
      })
      .join("");
  }

  function base64(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i++) {
      text += String.fromCharCode(bytes[i]);
    }
    return btoa(text);
  }

  // RFC 8785 for the values a protocol holds: objects (members sorted by
  // the UTF-16 code units of their names, which is what Array.sort does
  // with strings), strings (JSON.stringify is the RFC's serialisation),
  // integers, booleans and null.
  function jcs(value) {
    if (value === null) {
      return "null";
    }
    switch (typeof value) {
      case "boolean":
        return value ? "true" : "false";
      case "string":
        return JSON.stringify(value);
      case "number":
        if (!Number.isSafeInteger(value)) {
          throw new Error("only integers are canonicalised here: " + value);
        }
        return String(value);
      case "object":
        if (Array.isArray(value)) {
          return "[" + value.map(jcs).join(",") + "]";
        }
        return (
          "{" +
          Object.keys(value)
            .sort()
            .map(function (name) {
              return JSON.stringify(name) + ":" + jcs(value[name]);
            })
            .join(",") +
          "}"
        );
      default:
        throw new Error("cannot canonicalise a " + typeof value);
    }
  }

  // ------------------------------------------------------------ IndexedDB

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("device");
        db.createObjectStore("outbox", { keyPath: "id" });
      };
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  // Runs one request in a transaction; resolves with its result once the
  // transaction has committed.
  function inStore(db, store, mode, work) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction(store, mode);
      var request = work(tx.objectStore(store));
      var result;
      request.onsuccess = function () {
        result = request.result;
      };
      tx.oncomplete = function () {
        resolve(result);
      };
      tx.onerror = function () {
        reject(tx.error || request.error);
      };
      tx.onabort = function () {
        reject(tx.error || request.error);
      };
    });
  }

  // This browser's device: made once, then read back.
  async function device(db) {
    var found = await inStore(db, "device", "readonly", function (s) {
      return s.get("self");
    });
    if (found) {
      return found;
    }
    var pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    var raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    var made = {
      id: "web-" + hex(crypto.getRandomValues(new Uint8Array(8))),
      publicKey: base64(raw),
      privateKey: pair.privateKey,
      created: new Date().toISOString(),
    };
    try {
      await inStore(db, "device", "readwrite", function (s) {
        return s.add(made, "self");
      });
      return made;
    } catch (error) {
      // Another tab made the device first: use that one.
      return inStore(db, "device", "readonly", function (s) {
        return s.get("self");
      });
    }
  }

  // ------------------------------------------------------------ protocols

  // Now in Kazakhstan's civil time as RFC 3339, e.g. 2026-03-02T10:15:00+05:00.
  function localNow(offset) {
    var match = /^([+-])(\d\d):(\d\d)$/.exec(offset || "+05:00");
    var minutes = (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
    var shifted = new Date(Date.now() + minutes * 60000);
    return shifted.toISOString().slice(0, 19) + match[0];
  }

  function newCase() {
    var day = localNow(data.offset).slice(0, 10).replace(/-/g, "");
    return "P-" + day + "-" + hex(crypto.getRandomValues(new Uint8Array(4))).toUpperCase();
  }

  async function sign(dev, form) {
    var record = {
      type: "fine.protocol_signed",
      id: "protocol-" + hex(crypto.getRandomValues(new Uint8Array(12))),
      at: localNow(data.offset),
      case: form.elements["case"].value.trim(),
      agency: data.agency,
      officer: data.officer,
      device: dev.id,
      offender: { iin: form.elements["offender"].value.trim() },
      article: form.elements["article"].value.trim(),
      place: form.elements["place"].value.trim(),
      amount_mci: parseInt(form.elements["amount"].value, 10),
      short_procedure: form.elements["short"].checked,
    };
    var bytes = new TextEncoder().encode(jcs(record));
    var signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, dev.privateKey, bytes));
    record.signature = base64(signature);
    return record;
  }

  async function showCode(uin) {
    var result = byId("result");
    var response = await fetch("/field/charges/" + encodeURIComponent(uin), { credentials: "same-origin" });
    if (!response.ok) {
      throw new Error("payment code: HTTP " + response.status);
    }
    // Rendered and escaped by the server.
    var holder = document.createElement("div");
    holder.innerHTML = await response.text();
    result.insertBefore(holder, result.firstChild);
    holder.scrollIntoView();
  }

  async function updateCount(db) {
    var count = await inStore(db, "outbox", "readonly", function (s) {
      return s.count();
    });
    byId("outbox-count").textContent = String(count);
    byId("outbox").hidden = count === 0;
  }

  // An answer that says the protocol may succeed later: keep it queued.
  function retryable(status, body) {
    return status === 401 || status === 429 || status >= 500 || (status === 403 && body.message === "csrf");
  }

  var sending = false;

  // Sends this officer's queued protocols, oldest first.
  async function flush(db) {
    if (sending) {
      return;
    }
    sending = true;
    try {
      var queued = await inStore(db, "outbox", "readonly", function (s) {
        return s.getAll();
      });
      queued.sort(function (a, b) {
        return a.queued < b.queued ? -1 : 1;
      });
      for (var i = 0; i < queued.length; i++) {
        var item = queued[i];
        if (item.officer !== data.officer) {
          continue;
        }
        var response;
        try {
          response = await fetch("/api/v1/protocols", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": data.csrf },
            body: item.line,
          });
        } catch (offline) {
          show("field-info", data.msgQueued);
          break;
        }
        var body = {};
        try {
          body = await response.json();
        } catch (notJson) {
          body = {};
        }
        if (retryable(response.status, body)) {
          show("field-info", data.msgQueued);
          break;
        }
        await inStore(db, "outbox", "readwrite", function (s) {
          return s["delete"](item.id);
        });
        if (response.ok) {
          show("field-error", "");
          show("field-info", data.msgSent);
          try {
            await showCode(body.uin);
          } catch (noCode) {
            show("field-info", data.msgSent + " " + body.uin + " · " + body.pay_now);
          }
        } else {
          show("field-info", "");
          show("field-error", data.msgRefused + " " + (body.message || "HTTP " + response.status));
        }
      }
    } finally {
      sending = false;
      await updateCount(db);
    }
  }

  async function main() {
    if (!window.crypto || !crypto.subtle || !window.indexedDB) {
      throw new Error("WebCrypto or IndexedDB is not available here (is the page served over HTTPS?)");
    }
    var db = await openDb();
    var dev = await device(db);
    var params = new URLSearchParams(location.search);
    if (params.get("device") !== dev.id) {
      // Tell the server which device this is, so the page says whether it is enrolled.
      params.set("device", dev.id);
      location.replace(location.pathname + "?" + params.toString());
      return;
    }
    root.hidden = false;
    byId("device-id").textContent = dev.id;
    byId("device-key").textContent = dev.publicKey;
    var form = byId("protocol");
    if (data.enrolled === "true" && data.enrolledKey !== dev.publicKey) {
      show("field-error", data.msgKeyMismatch);
      if (form) {
        form.hidden = true;
      }
      return;
    }
    if (form) {
      form.elements["case"].value = newCase();
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!form.checkValidity()) {
          show("field-error", data.msgInvalid);
          form.reportValidity();
          return;
        }
        show("field-error", "");
        sign(dev, form)
          .then(function (record) {
            return inStore(db, "outbox", "readwrite", function (s) {
              return s.put({ id: record.id, officer: record.officer, line: JSON.stringify(record), queued: record.at });
            });
          })
          .then(function () {
            form.elements["case"].value = newCase();
            form.elements["offender"].value = "";
            form.elements["article"].value = "";
            form.elements["amount"].value = "";
            form.elements["short"].checked = false;
            return flush(db);
          })
          .catch(function (error) {
            show("field-error", data.msgUnsupported + " " + error.name + ": " + error.message);
          });
      });
    }
    window.addEventListener("online", function () {
      flush(db);
    });
    // Retry now and then while something waits (the "online" event is not always fired).
    window.setInterval(function () {
      if (!byId("outbox").hidden) {
        flush(db);
      }
    }, 30000);
    await flush(db);
  }

  main().catch(function (error) {
    root.hidden = false;
    show("field-error", data.msgUnsupported + " " + error.name + ": " + error.message);
  });
})();
