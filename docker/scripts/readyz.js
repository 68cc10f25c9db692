// Health check of the control-plane container: GET /readyz over TLS, trusting only the lab's CA and
// checking the certificate is issued to "control-plane" (the name the other containers use).
'use strict';
const https = require('node:https');
const fs = require('node:fs');

let ca;
try {
  ca = fs.readFileSync('/var/lib/palisade/ca.pem');
} catch {
  process.exit(1); // not written yet: the control plane is still starting
}
const req = https.get(
  { host: '127.0.0.1', port: 8443, path: '/readyz', servername: 'control-plane', ca, minVersion: 'TLSv1.3', timeout: 3000 },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy());
req.on('error', () => process.exit(1));
