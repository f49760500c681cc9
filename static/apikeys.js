// The API keys page: the Copy button of a new key, and the access presets
// ticking the scopes they stand for (the server reads the preset, so the
// form works without this script too).
(function () {
  "use strict";
  // A preset's radio lists its scopes in data-scopes ("a, b, c").
  var boxes = document.querySelectorAll('#scopes input[type=checkbox]');
  function tick(radio) {
    var list = radio.getAttribute('data-scopes');
    if (list === null) { return; }
    var want = list.split(', ');
    boxes.forEach(function (b) { b.checked = want.indexOf(b.value) >= 0; });
  }
  document.querySelectorAll('input[name=access]').forEach(function (r) {
    r.addEventListener('change', function () { if (r.checked) { tick(r); } });
    if (r.checked) { tick(r); }
  });
  boxes.forEach(function (b) {
    b.addEventListener('change', function () {
      var custom = document.getElementById('access-custom');
      if (custom) { custom.checked = true; }
    });
  });
  var copy = document.getElementById('copy-token');
  if (copy) {
    copy.addEventListener('click', function () {
      var input = document.getElementById(copy.getAttribute('data-copy'));
      var done = document.getElementById('copy-done');
      input.focus();
      input.select();
      var said = function (text) { if (done) { done.textContent = text; } };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(function () { said('Copied.'); }, function () {
          said(document.execCommand('copy') ? 'Copied.' : 'Select the key and copy it.');
        });
      } else {
        said(document.execCommand('copy') ? 'Copied.' : 'Select the key and copy it.');
      }
    });
  }
})();
