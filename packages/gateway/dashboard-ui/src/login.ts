// The login form posts itself; this only says why it came back (`?failed=1`).
if (new URLSearchParams(location.search).has('failed')) document.getElementById('failed')?.removeAttribute('hidden');
