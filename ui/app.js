// The dashboard's shell: a router over the URL's hash (#/pipelines/NAME, ...). Each page is a
// module whose render(main, ...params) fills <main> and returns a function that stops what it
// started (polling, push queries) when the user leaves the page.
import { h } from './api.js';
import * as overview from './pages/overview.js';
import * as pipelines from './pages/pipelines.js';
import * as pipeline from './pages/pipeline.js';
import * as topics from './pages/topics.js';
import * as topic from './pages/topic.js';
import * as groups from './pages/groups.js';
import * as sql from './pages/sql.js';

const routes = [
  [/^\/?$/, overview, 'overview', 'Overview'],
  [/^\/pipelines\/?$/, pipelines, 'pipelines', 'Pipelines'],
  [/^\/pipelines\/(.+)$/, pipeline, 'pipelines', 'Pipeline'],
  [/^\/topics\/?$/, topics, 'topics', 'Topics'],
  [/^\/topics\/(.+)$/, topic, 'topics', 'Topic'],
  [/^\/groups\/?$/, groups, 'groups', 'Consumer groups'],
  [/^\/sql\/?$/, sql, 'sql', 'SQL editor'],
];

let stop = null;

function navigate() {
  if (stop) stop();
  stop = null;
  const path = decodeURIComponent(location.hash.replace(/^#/, '') || '/');
  const main = document.getElementById('main');
  main.replaceChildren();
  for (const [re, page, nav, title] of routes) {
    const m = path.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll('nav a')) {
      if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `${m[1] ? `${m[1]} · ` : ''}${title} · eddy`;
    stop = page.render(main, ...m.slice(1)) || null;
    return;
  }
  main.append(h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', { href: '#/' }, 'Back to the overview.')));
}

window.addEventListener('hashchange', () => {
  navigate();
  document.getElementById('main').focus({ preventScroll: true });
});
navigate();
