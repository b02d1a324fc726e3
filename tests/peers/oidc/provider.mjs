// The OpenID Provider of the SSO tests: npm oidc-provider (certified, written by others),
// configured with one confidential client, PKCE required, and login and consent answered
// automatically for the account the test chose (POST /_control). Its id_token carries
// only `sub` (conformIdTokenClaims), so a relying party must read names from userinfo.
//
//   node provider.mjs PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET POST_LOGOUT_URI
// prints "READY <issuer>" once it listens on 127.0.0.1:PORT.
import http from "node:http";
import Provider from "oidc-provider";

const [port, redirectUri, clientId, clientSecret, postLogoutUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const people = {
  alice: { email: "alice@example.edu", email_verified: true, given_name: "Alice",
           family_name: "Liddell", name: "Alice Liddell" },
  bob: { email: "bob@example.edu", email_verified: true, name: "Bob Builder" },
  nameless: {},
};
const control = { account: "alice", deny: false };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [postLogoutUri],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  pkce: { required: () => true },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name"],
  },
  conformIdTokenClaims: true,
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: {
    enabled: true,
    // Sign out without asking (the test clicks nothing): submit the provider's own form.
    logoutSource: async (ctx, form) => {
      ctx.body = `<!doctype html><html><body>${form}
<script>const f = document.forms[0]; const yes = document.createElement("input");
yes.type = "hidden"; yes.name = "logout"; yes.value = "yes"; f.appendChild(yes); f.submit();</script>
</body></html>`;
    },
  } },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(people[id] || {}) }),
  }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ["test-cookie-key-" + Math.random()] },
  ttl: { Session: 3600, Grant: 3600 },
});
provider.proxy = false;

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result;
  if (control.deny) {
    result = { error: "access_denied", error_description: "the user declined" };
  } else if (prompt.name === "login") {
    result = { login: { accountId: control.account } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const handler = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    if (req.url.startsWith("/interaction/")) return await interaction(req, res);
    if (req.url === "/_control" && req.method === "POST") {
      let body = "";
      for await (const chunk of req) body += chunk;
      Object.assign(control, JSON.parse(body || "{}"));
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end(JSON.stringify(control));
    }
    return handler(req, res);
  } catch (error) {
    res.writeHead(500);
    res.end(String(error));
  }
});
server.listen(Number(port), "127.0.0.1", () => console.log(`READY ${issuer}`));
// Stop with the test run: when the parent closes stdin, or on a signal.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
