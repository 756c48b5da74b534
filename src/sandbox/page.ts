/**
 * The /sandbox page: one HTML document and a little vanilla JavaScript beside it. It polls the
 * sandbox state, renders the channel like a chat app (threads under approval messages,
 * "only visible to you" replies), and sends commands, files, reactions and button presses.
 */
import { escapeHtml } from '../http/pages.js';
import type { SandboxPerson } from './surface.js';

export function sandboxPage(people: readonly SandboxPerson[]): string {
  const options = people.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.name)}</option>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IQSP sandbox</title>
<link rel="icon" href="data:,">
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: #1d1c1d; background: #f8f8f8; display: grid;
         grid-template-columns: 1fr 22rem; grid-template-rows: auto 1fr auto; height: 100vh; }
  header { grid-column: 1 / 3; background: #3f0e40; color: #fff; padding: .6rem 1rem; display: flex; gap: 1rem; align-items: center; }
  header h1 { font-size: 1.05rem; margin: 0; flex: 1; }
  header .note { font-size: .8rem; opacity: .8; }
  #channel { overflow-y: auto; padding: 1rem; background: #fff; }
  aside { grid-row: 2 / 4; grid-column: 2; overflow-y: auto; padding: 1rem; border-left: 1px solid #ddd; }
  aside h2 { font-size: .95rem; margin: 0 0 .5rem; }
  .msg { padding: .45rem .6rem; border-radius: 6px; margin-bottom: .35rem; white-space: pre-wrap; word-break: break-word; }
  .msg:hover { background: #f4f4f4; }
  .msg .who { font-weight: 700; margin-right: .4rem; }
  .msg.bot .who { color: #3f0e40; }
  .msg.private { background: #fff8e1; border-left: 3px solid #f2c744; }
  .msg.private .tag { font-size: .75rem; color: #8a6d00; display: block; }
  .thread { margin: .2rem 0 .6rem 2.2rem; border-left: 2px solid #ddd; padding-left: .6rem; }
  .fields { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .6rem; font-size: .85rem; color: #555; margin-top: .3rem; }
  .preview { max-width: 14rem; max-height: 10rem; display: block; margin-top: .4rem; border-radius: 4px; }
  .actions { margin-top: .4rem; display: flex; gap: .4rem; flex-wrap: wrap; }
  button, .button { font: inherit; padding: .25rem .7rem; border: 1px solid #bbb; border-radius: 4px; background: #fff; cursor: pointer; text-decoration: none; color: inherit; }
  button.primary, .button.primary { background: #007a5a; color: #fff; border-color: #007a5a; }
  button.danger { background: #e01e5a; color: #fff; border-color: #e01e5a; }
  .reaction.on { background: #e8f5fa; border-color: #1d9bd1; }
  footer { grid-column: 1; padding: .6rem 1rem; background: #fff; border-top: 1px solid #ddd; display: flex; gap: .5rem; align-items: center; }
  footer input[type=text] { flex: 1; padding: .5rem; font: inherit; border: 1px solid #bbb; border-radius: 6px; }
  .published { font-size: .85rem; padding: .4rem 0; border-bottom: 1px solid #eee; }
  .published a { word-break: break-all; }
  .scheduled, .outcome { font-size: .85rem; padding: .35rem 0; border-bottom: 1px solid #eee; }
  .outcome .status { font-weight: 600; }
  .edited { font-size: .75rem; color: #888; }
  .download { display: inline-block; margin-top: .3rem; }
  dialog { width: min(36rem, 92vw); border: 1px solid #bbb; border-radius: 8px; padding: 1rem 1.2rem; }
  dialog::backdrop { background: rgba(0, 0, 0, .35); }
  dialog h2 { font-size: 1.05rem; margin: 0 0 .6rem; }
  .field { margin-bottom: .8rem; }
  .field label { display: block; font-weight: 600; }
  .field textarea { width: 100%; font: inherit; padding: .4rem; border: 1px solid #bbb; border-radius: 6px; }
  .counts { font-size: .8rem; color: #555; }
  .counts .over { color: #e01e5a; font-weight: 600; }
</style>
</head>
<body>
<header>
  <h1>IQSP sandbox · #general</h1>
  <label>You are <select id="who">${options}</select></label>
  <span class="note">Simulated chat and platforms: nothing leaves this machine.</span>
</header>
<main id="channel" aria-live="polite"></main>
<aside>
  <h2>Scheduled posts <span class="note" id="zone"></span></h2>
  <div id="scheduled"><p class="note">Nothing scheduled.</p></div>
  <h2 style="margin-top:1rem">Recent outcomes</h2>
  <div id="recent"><p class="note">No post has finished yet.</p></div>
  <p class="note"><a id="home-link" href="/sandbox/home" target="_blank" rel="noopener">The App Home view</a></p>
  <h2 style="margin-top:1.5rem">Simulated platforms: published posts</h2>
  <div id="published"><p class="note">Nothing published yet.</p></div>
  <h2 style="margin-top:1.5rem">Try</h2>
  <ol class="note">
    <li><code>/iqsp connect x</code>, open the link, allow.</li>
    <li>Attach an image: <code>/iqsp post x Hello from the sandbox</code></li>
    <li>Switch to Bob and react ✅ on the approval message.</li>
    <li>Schedule one: <code>/iqsp post x in 1m Hello later</code>, approve it as Bob, and watch it publish a minute later.</li>
    <li>Press Edit on your approval message (or <code>/iqsp edit &lt;id&gt; x Short for X</code>): an X version of its own, <code>---</code> for a thread; approvals start over.</li>
  </ol>
</aside>
<footer>
  <form id="composer" style="display:flex;gap:.5rem;flex:1">
    <input id="text" type="text" placeholder="/iqsp help" autocomplete="off" aria-label="Message">
    <input id="files" type="file" multiple accept="image/*,video/*" aria-label="Attach files">
    <button class="primary" type="submit">Send</button>
  </form>
</footer>
<dialog id="edit-dialog" aria-labelledby="edit-title">
  <form id="edit-form">
    <h2 id="edit-title">Edit post</h2>
    <p class="note">Saving starts the approvals over: a ✅ given before the edit no longer counts.</p>
    <div id="edit-fields"></div>
    <div class="actions">
      <button class="primary" type="submit">Save</button>
      <button type="button" id="edit-cancel">Cancel</button>
    </div>
  </form>
</dialog>
<script src="/sandbox/page.js"></script>
</body>
</html>
`;
}

/**
 * The page's script, served as /sandbox/page.js: the Content-Security-Policy runs scripts from
 * this origin only, never inline ones.
 */
export function sandboxScript(): string {
  return `(() => {
  const who = document.getElementById('who');
  who.value = localStorage.getItem('iqsp-sandbox-user') || who.value;
  const homeLink = document.getElementById('home-link');
  const linkHome = () => { homeLink.href = '/sandbox/home?user=' + encodeURIComponent(who.value); };
  linkHome();
  who.addEventListener('change', () => { localStorage.setItem('iqsp-sandbox-user', who.value); linkHome(); refresh(true); });
  const channel = document.getElementById('channel');
  let lastKey = '';

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v; else if (k.startsWith('on')) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    }
    for (const c of children) if (c != null) node.append(c);
    return node;
  };
  const linkify = (text) => {
    const span = el('span');
    const parts = text.split(/(https?:\\/\\/[^\\s)]+)/g);
    for (const part of parts) {
      if (/^https?:\\/\\//.test(part)) span.append(el('a', { href: part, target: '_blank', rel: 'noopener' }, part));
      else span.append(part.replace(/<@([^>|]+)(\\|[^>]*)?>/g, '@$1'));
    }
    return span;
  };
  const send = (url, body) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const post = async (url, body) => {
    const response = await send(url, body);
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) alert(answer.error || 'Request failed');
    refresh(true);
    return answer;
  };
  const press = async (b, messageId) => {
    const answer = await post('/sandbox/api/button', { user: who.value, actionId: b.actionId, value: b.value, messageId });
    if (answer.edit) openEdit(answer.edit, who.value);
  };

  // The edit form (Slack's post modal opened by Edit): the caption, one field per platform for its
  // own version, and under each what its platforms count, kept up to date as the person types.
  const editDialog = document.getElementById('edit-dialog');
  let editing;
  const countsUnder = (area, platforms) => {
    const counts = el('div', { class: 'counts', 'aria-live': 'polite' });
    let timer;
    const update = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const response = await send('/sandbox/api/counts', { platforms, text: area.value }).catch(() => undefined);
        if (!response || !response.ok) return;
        const answer = await response.json();
        counts.replaceChildren(...answer.counts.map((c) => el('div', { class: c.over ? 'over' : '' }, c.line)));
      }, 150);
    };
    area.addEventListener('input', update);
    update();
    return counts;
  };
  const editField = (id, label, value, platforms, hint) => {
    const area = el('textarea', { id, rows: '3' });
    area.value = value;
    return el('div', { class: 'field' }, el('label', { for: id }, label), hint ? el('span', { class: 'note' }, hint) : null, area, countsUnder(area, platforms));
  };
  function openEdit(form, user) {
    editing = { ...form, user };
    document.getElementById('edit-title').textContent = 'Edit post ' + form.postId;
    document.getElementById('edit-fields').replaceChildren(
      editField('edit-caption', 'Caption', form.caption, form.versions.map((v) => v.platform)),
      ...form.versions.map((v) => editField('edit-version-' + v.platform, 'Own version for ' + v.name, v.version, [v.platform],
        'Optional: blank publishes the caption there. A line of --- splits a thread of replies where the platform has them.')));
    editDialog.showModal();
  }
  document.getElementById('edit-cancel').addEventListener('click', () => editDialog.close());
  document.getElementById('edit-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const versions = {};
    for (const v of editing.versions) versions[v.platform] = document.getElementById('edit-version-' + v.platform).value;
    editDialog.close();
    await post('/sandbox/api/edit', { user: editing.user, postId: editing.postId, caption: document.getElementById('edit-caption').value, versions });
  });

  function render(state) {
    const me = who.value;
    const names = Object.fromEntries(state.people.map((p) => [p.id, p.name]));
    const top = state.messages.filter((m) => !m.threadId);
    const replies = (id) => state.messages.filter((m) => m.threadId === id);
    const stick = channel.scrollTop + channel.clientHeight >= channel.scrollHeight - 30;
    channel.replaceChildren();
    const renderMessage = (m) => {
      const box = el('div', { class: 'msg' + (m.author === 'bot' ? ' bot' : '') + (m.visibleTo ? ' private' : ''), 'data-id': m.id });
      if (m.visibleTo) box.append(el('span', { class: 'tag' }, 'Only visible to you'));
      box.append(el('span', { class: 'who' }, m.author === 'bot' ? 'IQSP' : (names[m.author] || m.author)), linkify(m.text));
      if (m.edited) box.append(' ', el('span', { class: 'edited' }, '(edited)'));
      if (m.imageUrl) box.append(el('img', { class: 'preview', src: m.imageUrl, alt: 'media preview' }));
      if (m.file) {
        const blob = new Blob([m.file.content], { type: 'application/json' });
        box.append(el('a', { class: 'download button', href: URL.createObjectURL(blob), download: m.file.filename }, '⬇ ' + m.file.filename));
      }
      const actions = el('div', { class: 'actions' });
      for (const b of m.buttons || []) {
        if (b.actionId.startsWith('open_connect_link')) actions.append(el('a', { class: 'button primary', href: b.value, target: '_blank', rel: 'noopener' }, b.label));
        else actions.append(el('button', { class: b.style || '', type: 'button', onclick: () => press(b, m.id) }, b.label));
      }
      if (m.approvalFor) {
        for (const [emoji, label] of [['white_check_mark', '✅'], ['x', '❌']]) {
          const users = (m.reactions && m.reactions[emoji]) || [];
          const mine = users.includes(me);
          actions.append(el('button', { class: 'reaction' + (mine ? ' on' : ''), type: 'button', title: users.map((u) => names[u] || u).join(', '),
            'aria-label': (mine ? 'remove ' : 'react ') + label,
            // Who clicks is who is selected now, even if the switch has not re-rendered the view yet.
            onclick: () => post('/sandbox/api/react', { user: who.value, messageId: m.id, emoji, remove: users.includes(who.value) }) }, label + ' ' + users.length));
        }
      }
      if (actions.childNodes.length) box.append(actions);
      return box;
    };
    for (const m of top) {
      channel.append(renderMessage(m));
      const thread = replies(m.id);
      if (thread.length) channel.append(el('div', { class: 'thread' }, ...thread.map(renderMessage)));
    }
    if (stick) channel.scrollTop = channel.scrollHeight;
    const published = document.getElementById('published');
    published.replaceChildren(...(state.published.length ? state.published.map((p) =>
      el('div', { class: 'published' }, el('strong', {}, p.platform + ' ' + p.account), el('br'), p.text || '(no text)',
        p.media ? el('span', { class: 'note' }, ' · ' + p.media + ' media file' + (p.media > 1 ? 's' : '')) : null, el('br'),
        el('a', { href: p.url, target: '_blank', rel: 'noopener' }, p.url))) : [el('p', { class: 'note' }, 'Nothing published yet.')]));
    renderSchedule(state.schedule);
  }

  // The workspace's scheduled posts and latest outcomes (what Slack's App Home shows), times in the reader's zone.
  function renderSchedule(schedule) {
    if (!schedule) return;
    document.getElementById('zone').textContent = '(' + schedule.zone + ')';
    document.getElementById('scheduled').replaceChildren(...(schedule.upcoming.length ? schedule.upcoming.map((p) =>
      el('div', { class: 'scheduled', 'data-id': p.id }, el('strong', {}, p.id), ' · ' + p.time, el('br'),
        (p.targets.join(', ') || 'no target') + ' · ' + p.approvals, p.caption ? el('br') : null,
        p.caption ? el('span', { class: 'note' }, p.caption) : null)) : [el('p', { class: 'note' }, 'Nothing scheduled.')]));
    document.getElementById('recent').replaceChildren(...(schedule.recent.length ? schedule.recent.map((r) =>
      el('div', { class: 'outcome', 'data-id': r.id }, el('strong', {}, r.id), ' ', el('span', { class: 'status' }, r.status), ' · ' + r.time,
        el('br'), el('span', { class: 'note' }, [r.targets.join(', '), r.caption].filter(Boolean).join(' · ')))) : [el('p', { class: 'note' }, 'No post has finished yet.')]));
  }

  async function refresh(force) {
    const user = who.value;
    try {
      const response = await fetch('/sandbox/api/state?user=' + encodeURIComponent(user));
      const state = await response.json();
      // Polls overlap: an answer for the person selected before a switch must not be shown as the new one's.
      if (user !== who.value) return;
      const key = user + ':' + state.version + ':' + state.published.length;
      if (force || key !== lastKey) { lastKey = key; render(state); }
    } catch (e) { /* the server restarted; try again */ }
  }

  document.getElementById('composer').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = document.getElementById('text');
    const files = document.getElementById('files');
    const send = event.target.querySelector('button[type=submit]');
    if (send.disabled || (!text.value.trim() && !files.files.length)) return;
    const form = new FormData();
    form.append('user', who.value);
    form.append('text', text.value);
    for (const f of files.files) form.append('files', f, f.name);
    // A video can take a while to upload: show it, and keep what was typed until it is sent.
    send.disabled = true;
    send.textContent = 'Sending…';
    try {
      const response = await fetch('/sandbox/api/command', { method: 'POST', body: form });
      if (response.ok) { text.value = ''; files.value = ''; }
      else alert((await response.json().catch(() => ({}))).error || 'Request failed');
    } catch (e) {
      alert('The sandbox server did not answer; is it still running?');
    } finally {
      send.disabled = false;
      send.textContent = 'Send';
    }
    refresh(true);
  });

  refresh(true);
  setInterval(refresh, 700);
})();
`;
}
