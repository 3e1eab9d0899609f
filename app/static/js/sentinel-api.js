/* Calls of the phone pages to the JSON APIs (/api/v1/…): JSON or FormData bodies, an
   optional Bearer token, and every answer read as {status, ok, data} (data: the JSON
   object, {} when the answer is not JSON). A network failure rejects the promise. */
(function () {
  "use strict";
  function request(method, url, options) {
    options = options || {};
    var headers = {"Accept": "application/json"};
    var body = options.body;
    if (options.token) { headers.Authorization = "Bearer " + options.token; }
    if (body !== undefined && body !== null && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    return fetch(url, {method: method, headers: headers, body: body, credentials: "same-origin",
                       redirect: "manual"}).then(function (response) {
      return response.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = {}; }
        if (data === null || typeof data !== "object") { data = {}; }
        return {status: response.status, ok: response.ok, data: data};
      });
    });
  }
  /* An image the API serves only with the token, shown through a blob: URL. */
  function image(url, token) {
    var headers = token ? {"Authorization": "Bearer " + token} : {};
    return fetch(url, {headers: headers, credentials: "same-origin"}).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.blob();
    }).then(function (blob) { return URL.createObjectURL(blob); });
  }
  function texts(id) {
    var node = document.getElementById(id);
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  window.SentinelApi = {request: request, image: image, texts: texts, el: el};
})();
