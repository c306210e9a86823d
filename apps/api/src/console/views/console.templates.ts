/**
 * The console's Eta templates, by name. They live in TypeScript so the build (which compiles .ts
 * only) ships them; `<%= %>` escapes, and the only raw output is the layout's page body, itself a
 * template's escaped output.
 */

const layout = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <meta name="robots" content="noindex, nofollow">
    <title><%= it.title %> · Auditors' console</title>
    <link rel="stylesheet" href="/console/console.css">
  </head>
  <body>
    <a class="skip" href="#main">Skip to content</a>
    <header class="bar">
      <a class="brand" href="/console">Auditors' console</a>
<% if (it.session) { %>
      <nav aria-label="Console">
        <ul>
          <li><a href="/console">Search</a></li>
          <li><a href="/console/feed">Feed</a></li>
        </ul>
      </nav>
      <form method="post" action="/console/sign-out">
        <input type="hidden" name="_csrf" value="<%= it.csrf %>">
        <span class="who">Signed in as <%= it.session.clientId %></span>
        <button type="submit">Sign out</button>
      </form>
<% } %>
    </header>
    <main id="main">
<%~ it.body %>
    </main>
  </body>
</html>
`;

const signIn = `<% layout('@layout.eta') %>
<h1>Sign in</h1>
<div class="card">
  <p>Sign in with the credentials of an API client that holds the <code>audit</code> scope.</p>
<% if (it.error) { %>
  <p class="error" role="alert" id="sign-in-error"><%= it.error %></p>
<% } %>
  <form method="post" action="/console/sign-in">
    <input type="hidden" name="_csrf" value="<%= it.csrf %>">
    <label for="client-id">Client ID</label>
    <input id="client-id" name="clientId" autocomplete="username" required maxlength="200" value="<%= it.clientId %>"<% if (it.error) { %> aria-describedby="sign-in-error"<% } %>>
    <label for="client-secret">Client secret</label>
    <input id="client-secret" name="clientSecret" type="password" autocomplete="current-password" required maxlength="200">
    <button type="submit">Sign in</button>
  </form>
</div>
`;

const stateList = `<dl>
<% for (const [label, value] of it.rows) { %>
  <dt><%= label %></dt>
  <dd><%= value %></dd>
<% } %>
</dl>
`;

const search = `<% layout('@layout.eta') %>
<h1>Find a contact</h1>
<form method="post" action="/console" class="card" role="search">
  <input type="hidden" name="_csrf" value="<%= it.csrf %>">
  <label for="search">Search</label>
  <input id="search" name="q" type="search" value="<%= it.q %>" aria-describedby="search-hint" maxlength="200">
  <p class="hint" id="search-hint">An email address, a name, a company or a contact id.</p>
  <button type="submit">Search</button>
</form>
<% if (it.q !== '') { %>
<section aria-labelledby="results">
  <h2 id="results"><%= it.results.length === 0 ? 'No contact matches' : it.results.length === 1 ? '1 contact' : it.results.length + ' contacts' %></h2>
<% if (it.results.length > 0) { %>
  <ul class="results">
<% for (const contact of it.results) { %>
    <li><a href="/console/contacts/<%= contact.id %>"><%= contact.name %></a> · <%= contact.email %> · <%= contact.type %></li>
<% } %>
  </ul>
<% if (it.more) { %>
  <p>Only the first <%= it.results.length %> are listed: search for more of the name or email.</p>
<% } %>
<% } %>
</section>
<% } %>
`;

const contact = `<% layout('@layout.eta') %>
<h1><%= it.name %></h1>
<p>
  <span class="chain <%= it.chain.broken ? 'chain-broken' : 'chain-ok' %>"><%= it.chain.words %></span>
<% if (it.chain.reason) { %>
  <span>(<%= it.chain.reason %>)</span>
<% } %>
</p>
<div class="columns">
  <section aria-labelledby="current">
    <h2 id="current">Current state</h2>
<% if (it.current) { %>
    <%~ include('@state.eta', { rows: it.current }) %>
<% } else { %>
    <p>No current state is kept for this contact.</p>
<% } %>
  </section>
  <section aria-labelledby="as-of-heading">
    <h2 id="as-of-heading">State at a moment</h2>
    <form method="get" action="/console/contacts/<%= it.id %>">
      <label for="as-of">As of</label>
      <input id="as-of" name="asOf" type="datetime-local" step="1" value="<%= it.asOf.value %>" aria-describedby="as-of-hint<%= it.asOf.error ? ' as-of-error' : '' %>">
      <p class="hint" id="as-of-hint">A date and time in UTC.</p>
<% if (it.asOf.error) { %>
      <p class="error" role="alert" id="as-of-error"><%= it.asOf.error %></p>
<% } %>
      <button type="submit">Show</button>
    </form>
<% if (it.asOf.at) { %>
    <h3>As of <time datetime="<%= it.asOf.at %>"><%= it.asOf.at %></time></h3>
<% if (it.asOf.rows) { %>
    <%~ include('@state.eta', { rows: it.asOf.rows }) %>
<% } else { %>
    <p>The contact did not exist yet at that moment.</p>
<% } %>
<% } %>
  </section>
</div>
<section aria-labelledby="timeline">
  <h2 id="timeline">Timeline</h2>
  <p><%= it.total %> event<%= it.total === 1 ? '' : 's' %>, newest first.</p>
  <ol class="timeline" reversed start="<%= it.firstVersion %>">
<% for (const entry of it.entries) { %>
    <li>
      <h3><%= entry.type %></h3>
      <p class="meta">Version <%= entry.version %> · <time datetime="<%= entry.recordedAt %>"><%= entry.recordedAt %></time> · client <%= entry.clientId %></p>
<% if (entry.changes.length > 0) { %>
      <div class="scroll">
        <table>
          <caption class="meta">What changed</caption>
          <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
          <tbody>
<% for (const change of entry.changes) { %>
            <tr><th scope="row"><%= change.field %></th><td class="before"><%= change.before %></td><td class="after"><%= change.after %></td></tr>
<% } %>
          </tbody>
        </table>
      </div>
<% } else { %>
      <p>No field of the contact changed.</p>
<% } %>
      <details>
        <summary>Event data</summary>
        <pre><%= entry.data %></pre>
      </details>
    </li>
<% } %>
  </ol>
<%~ include('@pages.eta', it.pages) %>
</section>
`;

const pages = `<% if (it.newer || it.older) { %>
<nav class="pages" aria-label="Pages">
<% if (it.newer) { %>
  <a href="<%= it.newer %>" rel="prev">Newer events</a>
<% } %>
  <span><%= it.label %></span>
<% if (it.older) { %>
  <a href="<%= it.older %>" rel="next">Older events</a>
<% } %>
</nav>
<% } %>
`;

const feed = `<% layout('@layout.eta') %>
<h1>Event feed</h1>
<form method="get" action="/console/feed" class="card filters">
  <div>
    <label for="type">Type</label>
    <select id="type" name="type">
      <option value="">Any type</option>
<% for (const type of it.types) { %>
      <option value="<%= type %>"<% if (type === it.filter.type) { %> selected<% } %>><%= type %></option>
<% } %>
    </select>
  </div>
  <div>
    <label for="client">Client</label>
    <input id="client" name="client" value="<%= it.filter.client %>" maxlength="200">
  </div>
  <div>
    <label for="from">From</label>
    <input id="from" name="from" type="datetime-local" step="1" value="<%= it.filter.from %>" aria-describedby="time-hint">
  </div>
  <div>
    <label for="to">To</label>
    <input id="to" name="to" type="datetime-local" step="1" value="<%= it.filter.to %>" aria-describedby="time-hint">
  </div>
  <p class="hint" id="time-hint">Times in UTC.</p>
  <button type="submit">Filter</button>
</form>
<% if (it.error) { %>
<p class="error" role="alert"><%= it.error %></p>
<% } %>
<p>Every contact's events in commit order<%= it.after ? ', after position ' + it.after : '' %>.</p>
<% if (it.events.length === 0) { %>
<p>No event matches.</p>
<% } %>
<ol class="feed">
<% for (const event of it.events) { %>
  <li>
    <h2 class="meta"><span><%= event.type %></span></h2>
    <p class="meta">Position <%= event.position %> · <time datetime="<%= event.recordedAt %>"><%= event.recordedAt %></time> · client <%= event.clientId %> · <a href="/console/contacts/<%= event.streamId %>">contact <%= event.streamId %></a>, version <%= event.version %></p>
    <details>
      <summary>Event data</summary>
      <pre><%= event.data %></pre>
    </details>
  </li>
<% } %>
</ol>
<% if (it.next) { %>
<nav class="pages" aria-label="Pages">
  <span><%= it.scanned %></span>
  <a href="<%= it.next %>" rel="next">Next page</a>
</nav>
<% } %>
`;

const error = `<% layout('@layout.eta') %>
<h1><%= it.title %></h1>
<p><%= it.text %></p>
<p><a href="/console">Back to the console</a></p>
`;

/** Eta names templates in its cache `@…`; `.eta` is the extension @fastify/view adds to a page name. */
export const CONSOLE_TEMPLATES: Readonly<Record<string, string>> = {
  '@layout.eta': layout,
  '@state.eta': stateList,
  '@pages.eta': pages,
  '@sign-in.eta': signIn,
  '@search.eta': search,
  '@contact.eta': contact,
  '@feed.eta': feed,
  '@error.eta': error,
};
