/* The enterprise head's login page (sentinel/head_login.html): 获取验证码 asks for a
   code (POST, JSON, CSRF header), shows the answer and counts the resend pause down.
   The URL, the pause and the texts come from the button's data-* attributes. */
(function () {
  "use strict";
  var button = document.getElementById("get-code");
  var status = document.getElementById("code-status");
  if (!button || !status) { return; }
  var label = button.textContent;
  var waitText = button.getAttribute("data-wait-text");
  var failText = button.getAttribute("data-fail-text");
  var token = document.querySelector("#head-login-form input[name=csrf_token]").value;

  function show(kind, text) {
    status.className = "alert alert-" + kind;
    status.textContent = text;
  }
  function countdown(seconds) {
    button.disabled = true;
    var timer = setInterval(function () {
      seconds -= 1;
      if (seconds <= 0) { clearInterval(timer); button.disabled = false; button.textContent = label; return; }
      button.textContent = seconds + waitText;
    }, 1000);
    button.textContent = seconds + waitText;
  }
  button.addEventListener("click", function () {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", button.getAttribute("data-url"));
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.onload = function () {
      var message = failText;
      try { message = JSON.parse(xhr.responseText).message || failText; } catch (e) {}
      if (xhr.status === 200) {
        show("success", message);
        countdown(parseInt(button.getAttribute("data-resend-seconds"), 10) || 60);
      } else { show("danger", message); }
    };
    xhr.onerror = function () { show("danger", failText); };
    xhr.send(JSON.stringify({phone: document.getElementById("phone").value}));
  });
})();
