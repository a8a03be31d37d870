// The shell: the scope bar (account, region, credentials), the navigation, and the views.
import { session, saveSession, startRouter, render, h, button, errorBox, currentAccount, currentRegion, whoami } from './core.js';
import './views/metrics.js';
import './views/alarms.js';
import './views/dashboards.js';
import './views/logs.js';
import './views/cloudtrail.js';
import './views/events.js';

const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1', 'eu-south-1',
  'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2',
];

function scopeBar() {
  const scope = document.getElementById('scope');
  const server = session.server || {};
  const accounts = [...new Set([server.defaultAccount, ...(server.accounts || []), session.account].filter(Boolean))];
  const enforced = !!server.enforceSignatures;
  const accountInput = h('input', {
    id: 'account', list: 'known-accounts', value: currentAccount(), size: 14, maxlength: 12,
    'aria-label': 'Account', title: enforced ? 'The account of your access key' : 'Account (12 digits)', disabled: enforced,
    onchange: (e) => {
      const value = e.target.value.trim();
      if (!/^\d{12}$/.test(value)) { e.target.setCustomValidity('12 digits'); e.target.reportValidity(); return; }
      e.target.setCustomValidity('');
      session.account = value;
      saveSession();
      render();
    },
  });
  const regions = [...new Set([currentRegion(), ...REGIONS])];
  const regionSelect = h('select', {
    id: 'region', 'aria-label': 'Region',
    onchange: (e) => { session.region = e.target.value; saveSession(); render(); },
  }, regions.map((r) => h('option', { value: r, selected: r === currentRegion() }, r)));
  const parts = [
    h('label', {}, 'Account ', accountInput),
    h('datalist', { id: 'known-accounts' }, accounts.map((a) => h('option', { value: a }))),
    h('label', {}, 'Region ', regionSelect),
  ];
  if (enforced) {
    parts.push(session.accessKeyId
      ? button(`Key ${session.accessKeyId} · sign out`, () => {
        session.accessKeyId = '';
        session.secretAccessKey = '';
        session.account = ''; // the key's account, not a choice of the user's
        saveSession();
        location.reload();
      })
      : button('Sign in', credentialsDialog, { primary: true }));
  }
  scope.replaceChildren(...parts);
}

// With --enforce-signatures the console signs with a key the user gives; it is kept in this
// tab's sessionStorage only and never sent anywhere but in signatures.
function credentialsDialog() {
  const key = h('input', { id: 'access-key', autocomplete: 'username', required: true });
  const secret = h('input', { id: 'secret-key', type: 'password', autocomplete: 'current-password', required: true });
  const problem = h('div', { id: 'sign-in-problem' });
  const dialog = h('dialog', { class: 'dialog' },
    h('form', { method: 'dialog', onsubmit: async (e) => {
      e.preventDefault();
      session.accessKeyId = key.value.trim();
      session.secretAccessKey = secret.value;
      try {
        // Checks the key before using it, and learns its account.
        session.account = (await whoami()).account;
      } catch (error) {
        session.accessKeyId = '';
        session.secretAccessKey = '';
        problem.replaceChildren(errorBox(error));
        return;
      }
      saveSession();
      dialog.close();
      dialog.remove();
      scopeBar();
      showViews();
    } },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'This server checks signatures. Enter an access key it knows; the console signs each request with it. The key stays in this browser tab.'),
    h('label', {}, 'Access key ID', key), h('label', {}, 'Secret access key', secret), problem,
    h('div', { class: 'actions' }, h('button', { class: 'btn primary', type: 'submit' }, 'Sign in'))));
  document.body.append(dialog);
  dialog.showModal();
}

let routerStarted = false;

function showViews() {
  if (routerStarted) {
    render();
    return;
  }
  routerStarted = true;
  startRouter(document.getElementById('main'), highlight);
}

function highlight(path) {
  const section = path.split('/')[1] || 'metrics';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.section === section);
}

async function start() {
  try {
    const response = await fetch('/_watchtrail/health');
    session.server = await response.json();
  } catch {
    session.server = {};
  }
  scopeBar();
  // Under enforced signatures no view loads before there is a key to sign with: it would only
  // collect signature errors.
  if (session.server.enforceSignatures && !session.accessKeyId) credentialsDialog();
  else showViews();
}

start();
