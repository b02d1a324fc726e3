// The SAML identity provider of the SAML tests and the demo: npm samlify (its own
// JavaScript C14N, signing through xml-crypto, encryption through xml-encryption), with
// the SAML schema checked on every request it receives (node-xmllint).
//
//   node idp.mjs PORT CONFIG_JSON
// prints "READY <entityID>" once it listens on 127.0.0.1:PORT, and stops when its standard
// input closes. CONFIG_JSON: {"key": PEM, "cert": PEM, "scope": "example.test",
// "name": "Example University", "encrypt": true, "signAssertion": false,
// "wantSignedRequests": false, "users": {"alice": {"nameID": ..., "attributes": {URI: [..]}}}}
//
// It signs in at a login form, or at once as the user POST /_peer/control named (its page
// then posts the response on by itself; a client that asks with Accept: application/json
// gets the form's fields as JSON instead). The SP's metadata is fetched from its entity ID (the gateway's is its
// metadata URL), as an IdP that reads SP metadata by URL does.
import http from "node:http";
import zlib from "node:zlib";
import crypto from "node:crypto";
import * as samlify from "samlify";
import * as validator from "@authenio/samlify-node-xmllint";

samlify.setSchemaValidator(validator);

const [port, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson);
const base = `http://127.0.0.1:${port}`;
const entityID = `${base}/idp`;
const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

const control = { user: null, lastLogout: null, sessions: {} };

const idp = samlify.IdentityProvider({
  entityID,
  privateKey: config.key,
  signingCert: config.cert,
  requestSignatureAlgorithm: RSA_SHA256,
  wantAuthnRequestsSigned: !!config.wantSignedRequests,
  wantLogoutRequestSigned: true,
  isAssertionEncrypted: !!config.encrypt,
  nameIDFormat: [PERSISTENT],
  singleSignOnService: [{ Binding: REDIRECT, Location: `${base}/sso` }],
  singleLogoutService: [{ Binding: REDIRECT, Location: `${base}/slo` }],
});

// samlify's metadata, with what a federation's IdP publishes beside it: its scope and name.
function metadata() {
  const xml = idp.getMetadata();
  const extensions =
    `<md:Extensions xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` +
    `<shibmd:Scope xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" regexp="false">${config.scope}</shibmd:Scope>` +
    `<mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui">` +
    `<mdui:DisplayName xml:lang="en">${config.name}</mdui:DisplayName></mdui:UIInfo></md:Extensions>`;
  return xml.replace(/(<(?:\w+:)?IDPSSODescriptor[^>]*>)/, `$1${extensions}`);
}

const spCache = new Map();
async function serviceProvider(spEntityID) {
  if (!spCache.has(spEntityID)) {
    const reply = await fetch(spEntityID);
    if (!reply.ok) throw new Error(`SP metadata: HTTP ${reply.status}`);
    let xml = await reply.text();
    if (config.signAssertion) xml = xml.replace('WantAssertionsSigned="false"', 'WantAssertionsSigned="true"');
    spCache.set(spEntityID, samlify.ServiceProvider({
      metadata: xml,
      wantMessageSigned: config.signResponse !== false,
      wantLogoutRequestSigned: true,
      wantLogoutResponseSigned: true,
    }));
  }
  return spCache.get(spEntityID);
}

function issuerOf(encoded) {
  const xml = zlib.inflateRawSync(Buffer.from(encoded, "base64")).toString();
  const found = /<(?:\w+:)?Issuer[^>]*>([^<]+)<\/(?:\w+:)?Issuer>/.exec(xml);
  if (!found) throw new Error("no Issuer in the request");
  return found[1].trim();
}

const escape = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;")
  .replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const id = () => "_" + crypto.randomBytes(16).toString("hex");

function attributeXml(name, values) {
  const inner = values.map((value) => {
    if (value && typeof value === "object" && value.nameID) {  // eduPersonTargetedID
      return `<saml:AttributeValue><saml:NameID Format="${PERSISTENT}" NameQualifier="${escape(value.nameQualifier || entityID)}"` +
        ` SPNameQualifier="${escape(value.spNameQualifier || "")}">${escape(value.nameID)}</saml:NameID></saml:AttributeValue>`;
    }
    return `<saml:AttributeValue>${escape(value)}</saml:AttributeValue>`;
  }).join("");
  return `<saml:Attribute Name="${escape(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${inner}</saml:Attribute>`;
}

// The login response, written out: samlify's default template leaves AuthnStatement empty.
function responseTemplate(sp, user, inResponseTo, sessionIndex) {
  const now = new Date();
  const later = new Date(now.getTime() + 5 * 60 * 1000).toISOString();
  const acs = sp.entityMeta.getAssertionConsumerService(samlify.Constants.wording.binding.post);
  const spID = sp.entityMeta.getEntityID();
  const answer = inResponseTo ? ` InResponseTo="${escape(inResponseTo)}"` : "";
  const attributes = Object.entries(user.attributes || {}).map(([n, v]) => attributeXml(n, v)).join("");
  const nameIDFormat = user.nameIDFormat || PERSISTENT;
  const responseID = id();
  const context =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="${responseID}" Version="2.0" IssueInstant="${now.toISOString()}" Destination="${escape(acs)}"${answer}>` +
    `<saml:Issuer>${entityID}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id()}" Version="2.0" IssueInstant="${now.toISOString()}">` +
    `<saml:Issuer>${entityID}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${nameIDFormat}" NameQualifier="${entityID}" SPNameQualifier="${escape(spID)}">${escape(user.nameID)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData NotOnOrAfter="${later}" Recipient="${escape(acs)}"${answer}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${now.toISOString()}" NotOnOrAfter="${later}"><saml:AudienceRestriction>` +
    `<saml:Audience>${escape(spID)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="${sessionIndex}"><saml:AuthnContext>` +
    `<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>` +
    `</saml:AuthnContext></saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : "") +
    `</saml:Assertion></samlp:Response>`;
  return { id: responseID, context };
}

async function loginResponse(sp, username, requestInfo, relayState) {
  const user = config.users[username];
  if (!user) throw new Error(`no user ${username}`);
  const sessionIndex = id();
  control.sessions[username] = { sessionIndex, sp: sp.entityMeta.getEntityID() };
  const inResponseTo = requestInfo ? requestInfo.extract.request.id : null;
  const built = await idp.createLoginResponse(sp, requestInfo || {}, "post", {}, {
    relayState,
    customTagReplacement: () => responseTemplate(sp, user, inResponseTo, sessionIndex),
    // The response's signature over the encrypted assertion (samlify's default signs first
    // and then encrypts, which breaks the response's digest for every verifier).
    encryptThenSign: true,
  });
  return {
    action: sp.entityMeta.getAssertionConsumerService(samlify.Constants.wording.binding.post),
    SAMLResponse: built.context,
    RelayState: relayState || "",
  };
}

function autoPost(fields) {
  const inputs = ["SAMLResponse", "RelayState"].filter((n) => fields[n])
    .map((n) => `<input type="hidden" name="${n}" value="${escape(fields[n])}">`).join("");
  return `<!doctype html><html lang="en"><head><title>Signing you in</title></head><body>` +
    `<form id="autopost" method="post" action="${escape(fields.action)}">${inputs}<noscript><button>Continue</button></noscript></form>` +
    `<script>document.forms[0].submit()</script></body></html>`;
}

function loginForm(query, octet) {
  const hidden = Object.entries({ ...query, octet }).map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`).join("");
  const options = Object.keys(config.users).map((u) => `<option>${escape(u)}</option>`).join("");
  return `<!doctype html><html lang="en"><head><title>${escape(config.name)}: sign in</title></head><body><main>` +
    `<h1>${escape(config.name)}</h1><form method="post" action="${base}/login">${hidden}` +
    `<label for="username">Username</label> <select id="username" name="username">${options}</select>` +
    ` <button type="submit" id="idp-sign-in">Sign in</button></form></main></body></html>`;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...headers });
  res.end(body);
}

async function handle(req, res) {
  const url = new URL(req.url, base);
  const wantsJson = (req.headers.accept || "").includes("application/json");
  if (req.method === "GET" && url.pathname === "/idp") return send(res, 200, "application/samlmetadata+xml", metadata());
  if (req.method === "POST" && url.pathname === "/_peer/control") {
    Object.assign(control, JSON.parse(await readBody(req) || "{}"));
    return send(res, 200, "application/json", "{}");
  }
  if (req.method === "GET" && url.pathname === "/_peer/state") {
    return send(res, 200, "application/json", JSON.stringify(control));
  }
  if (req.method === "GET" && url.pathname === "/sso") {
    const query = Object.fromEntries(url.searchParams);
    const sp = await serviceProvider(issuerOf(query.SAMLRequest));
    const requestInfo = await idp.parseLoginRequest(sp, "redirect", { query, octetString: octetString(url) });
    if (control.user) {  // signed in already (a test chose who): answer at once
      const fields = await loginResponse(sp, control.user, requestInfo, query.RelayState);
      return wantsJson ? send(res, 200, "application/json", JSON.stringify(fields))
        : send(res, 200, "text/html", autoPost(fields));
    }
    return send(res, 200, "text/html", loginForm(query, octetString(url)));
  }
  if (req.method === "POST" && url.pathname === "/login") {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const { username, octet, ...query } = form;
    const sp = await serviceProvider(issuerOf(query.SAMLRequest));
    const requestInfo = await idp.parseLoginRequest(sp, "redirect", { query, octetString: octet });
    return send(res, 200, "text/html", autoPost(await loginResponse(sp, username, requestInfo, query.RelayState)));
  }
  if (req.method === "POST" && url.pathname === "/_peer/unsolicited") {
    const { user, sp: spID } = JSON.parse(await readBody(req));
    return send(res, 200, "application/json", JSON.stringify(await loginResponse(await serviceProvider(spID), user, null, "")));
  }
  if (req.method === "POST" && url.pathname === "/_peer/logout") {
    // Logout started here: a signed LogoutRequest for the user's session at that SP.
    const { user, sp: spID } = JSON.parse(await readBody(req));
    const sp = await serviceProvider(spID);
    const session = control.sessions[user] || {};
    const built = idp.createLogoutRequest(sp, "redirect", {
      logoutNameID: config.users[user].nameID, sessionIndex: session.sessionIndex,
    });
    return send(res, 200, "application/json", JSON.stringify({ url: built.context }));
  }
  if (req.method === "GET" && url.pathname === "/slo") {
    const query = Object.fromEntries(url.searchParams);
    if (query.SAMLResponse) {  // the SP's answer to a logout started here
      const sp = await serviceProvider(issuerOf(query.SAMLResponse));
      const parsed = await idp.parseLogoutResponse(sp, "redirect", { query, octetString: octetString(url) });
      control.lastLogout = { kind: "response", from: sp.entityMeta.getEntityID(), extract: parsed.extract };
      return send(res, 200, "text/html", "<!doctype html><title>Signed out</title><p id=\"idp-signed-out\">Signed out</p>");
    }
    const sp = await serviceProvider(issuerOf(query.SAMLRequest));
    const parsed = await idp.parseLogoutRequest(sp, "redirect", { query, octetString: octetString(url) });
    control.lastLogout = { kind: "request", from: sp.entityMeta.getEntityID(), extract: parsed.extract };
    const built = idp.createLogoutResponse(sp, parsed, "redirect", query.RelayState || "");
    return send(res, 302, "text/plain", "", { Location: built.context });
  }
  send(res, 404, "text/plain", "not found");
}

// The signed part of a redirect's query string, exactly as it came (HTTP-Redirect binding).
function octetString(url) {
  const raw = url.search.slice(1).split("&");
  return raw.filter((p) => /^(SAMLRequest|SAMLResponse|RelayState|SigAlg)=/.test(p)).join("&");
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 400, "text/plain", `refused: ${err.message || err}`));
});
server.listen(Number(port), "127.0.0.1", () => console.log(`READY ${entityID}`));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
