/* chat.js -- the sseq chat room in the browser.
 *
 * A room NAME is the sseq channel "chat.NAME" (the demo config opens
 * chat.* to anonymous publishing). Joining opens an EventSource on
 * /events?channel=chat.NAME&backlog=50 (the last 50 messages, then live
 * ones); a message is sent with fetch POST /publish/chat.NAME as JSON
 * {"data": {"nick", "text", "ts"}}.
 *
 * Resume: the browser reconnects an EventSource by itself and sends
 * Last-Event-ID when a stream ends. When it gives up (a 502 while the
 * server restarts closes the EventSource for good), we open a new one
 * with last_event_id=<last id shown>, so what was sent meanwhile is shown,
 * once. Ids only grow, so a message whose id is not above the last one
 * shown is never shown twice (and counted in sseqChat.dupes).
 *
 * Every text from the network goes into the page as textContent, never as
 * HTML. window.sseqChat exposes the state for the browser test.
 */
'use strict';

(function () {
    var CHANNEL_PREFIX = 'chat.';
    var ROOM_RE = /^[A-Za-z0-9_-]{1,40}$/;
    var BACKLOG = 50;
    var MAX_SHOWN = 500;           /* older messages leave the page */
    var RETRY_MIN_MS = 500;
    var RETRY_MAX_MS = 5000;
    var OFFLINE_AFTER = 6;         /* failed reconnects before "offline" */
    var STATUS_TEXT = {            /* when a reply carries no reason */
        400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
        404: 'Not Found', 405: 'Method Not Allowed',
        413: 'Payload Too Large', 415: 'Unsupported Media Type',
        429: 'Too Many Requests', 500: 'Internal Server Error',
        502: 'Bad Gateway', 503: 'Service Unavailable',
        504: 'Gateway Timeout'
    };

    var chat = {
        room: null, nick: null, source: null, lastId: null,
        state: 'offline', states: ['offline'], dupes: 0, shown: 0,
        failures: 0, retryTimer: null, sending: false
    };
    window.sseqChat = chat;

    function $(id) { return document.getElementById(id); }

    function channel() { return CHANNEL_PREFIX + chat.room; }

    /* Shows the connection state: connecting (first time), connected,
     * reconnecting, offline. */
    function setState(s) {
        var el = $('state');
        if (chat.state === s)
            return;
        chat.state = s;
        chat.states.push(s);
        el.textContent = s;
        el.dataset.state = s;
    }

    /* Shows reason under the message list (or hides it when empty). */
    function showError(reason) {
        var el = $('error');
        el.textContent = reason || '';
        el.hidden = !reason;
    }

    /* Formats a time (ms since the epoch) as HH:MM. */
    function clock(ms) {
        return new Date(ms).toLocaleTimeString([], {
            hour: '2-digit', minute: '2-digit'
        });
    }

    /* Reads an event's data: our JSON {nick, text, ts}, else (a message
     * published from a shell) the whole data as text. */
    function parseMessage(data) {
        try {
            var m = JSON.parse(data);
            if (m && typeof m === 'object' && typeof m.text === 'string')
                return {
                    nick: typeof m.nick === 'string' ? m.nick : '?',
                    text: m.text,
                    ts: typeof m.ts === 'number' ? m.ts : Date.now()
                };
        } catch (e) { /* not ours: plain text */ }
        return { nick: '(shell)', text: data, ts: Date.now() };
    }

    /* A span with class cls and text (as text, never HTML). */
    function span(cls, text) {
        var s = document.createElement('span');
        s.className = cls;
        s.textContent = text;
        return s;
    }

    /* Appends li to the list, keeping the view at the bottom when it was
     * there, and dropping the oldest items past MAX_SHOWN. */
    function appendItem(li) {
        var list = $('messages');
        var atBottom = list.scrollHeight - list.scrollTop -
            list.clientHeight < 40;
        list.appendChild(li);
        while (list.children.length > MAX_SHOWN)
            list.removeChild(list.firstChild);
        if (atBottom)
            list.scrollTop = list.scrollHeight;
    }

    /* Shows one chat message with its nickname, time and text. */
    function showMessage(id, m) {
        var li = document.createElement('li');
        var t = document.createElement('time');
        li.className = 'msg' + (m.nick === chat.nick ? ' mine' : '');
        li.dataset.id = id;
        t.dateTime = new Date(m.ts).toISOString();
        t.title = new Date(m.ts).toLocaleString();
        t.textContent = clock(m.ts);
        li.appendChild(span('nick', m.nick));
        li.appendChild(t);
        li.appendChild(span('text', m.text));
        appendItem(li);
        chat.shown++;
    }

    /* Shows a line from the page itself (gap, reconnect). */
    function showNotice(text) {
        var li = document.createElement('li');
        li.className = 'notice';
        li.textContent = text;
        appendItem(li);
    }

    /* Whether id (decimal string) is above the last id shown. */
    function isNew(id) {
        if (chat.lastId === null || !/^[0-9]+$/.test(id))
            return true;
        return BigInt(id) > BigInt(chat.lastId);
    }

    function onMessage(ev) {
        if (ev.target !== chat.source)
            return;
        if (ev.lastEventId && !isNew(ev.lastEventId)) {
            chat.dupes++;
            return;
        }
        if (ev.lastEventId)
            chat.lastId = ev.lastEventId;
        showMessage(ev.lastEventId, parseMessage(ev.data));
    }

    /* event: sseq-gap -- messages older than the queue keeps were lost. */
    function onGap(ev) {
        showNotice('Some messages were missed while you were away: ' +
                   'the server no longer keeps them.');
    }

    /* The URL of the stream: history on first join, else resume. */
    function streamUrl() {
        var u = '/events?channel=' + encodeURIComponent(channel());
        if (chat.lastId !== null)
            return u + '&last_event_id=' + encodeURIComponent(chat.lastId);
        return u + '&backlog=' + BACKLOG;
    }

    function closeSource() {
        clearTimeout(chat.retryTimer);
        chat.retryTimer = null;
        if (chat.source) {
            chat.source.close();
            chat.source = null;
        }
    }

    /* Opens the event stream of the current room. */
    function connect() {
        var es;
        closeSource();
        es = new EventSource(streamUrl());
        chat.source = es;
        es.onopen = function () {
            if (es !== chat.source)
                return;
            chat.failures = 0;
            setState('connected');
        };
        es.onmessage = onMessage;
        es.addEventListener('sseq-gap', onGap);
        es.onerror = function () { onStreamError(es); };
    }

    /* A stream broke: the browser retries by itself unless it closed the
     * EventSource (an error status, e.g. 502 while sseq-stream restarts);
     * then we retry, backing off. */
    function onStreamError(es) {
        var delay;
        if (es !== chat.source)
            return;
        chat.failures++;
        setState(!navigator.onLine || chat.failures > OFFLINE_AFTER ?
                 'offline' : 'reconnecting');
        if (es.readyState !== EventSource.CLOSED)
            return;
        delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS *
                         Math.pow(2, Math.min(chat.failures - 1, 4)));
        clearTimeout(chat.retryTimer);
        chat.retryTimer = setTimeout(connect, delay);
    }

    /* POSTs text to the room; returns a promise of the error reason, or
     * of null when the server took it. */
    function publish(text) {
        var body = JSON.stringify({
            data: { nick: chat.nick, text: text, ts: Date.now() }
        });
        return fetch('/publish/' + encodeURIComponent(channel()), {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: body
        }).then(function (res) {
            if (res.ok)
                return null;
            return res.text().then(function (t) {
                return refusal(res, t);
            });
        }).catch(function (err) {
            return 'network error (' + err.message + ')';
        });
    }

    /* The reason of a refused publish: the server's one-line text/plain
     * reason, else the status text (nginx's own pages are HTML). */
    function refusal(res, text) {
        var type = res.headers.get('Content-Type') || '';
        var reason = type.indexOf('text/plain') === 0 ? text.trim() : '';
        return res.status + ' ' + (reason || res.statusText ||
                                   STATUS_TEXT[res.status] || 'error');
    }

    /* Enter or the button: sends the input's text (one send at a time);
     * clears it once the server took it, keeps it otherwise. */
    function onSend(ev) {
        var input = $('text');
        var text = input.value;
        ev.preventDefault();
        if (!text.trim() || chat.sending)
            return;
        chat.sending = true;
        publish(text).then(function (reason) {
            chat.sending = false;
            if (reason) {
                showError('Not sent: ' + reason);
                return;
            }
            showError('');
            if (input.value === text)
                input.value = '';
        });
    }

    /* Enters room as nick: history, then live messages. */
    function join(nick, room) {
        var url = new URL(location.href);
        chat.nick = nick;
        chat.room = room;
        chat.lastId = null;
        chat.failures = 0;
        try { localStorage.setItem('sseq-chat-nick', nick); } catch (e) { }
        url.searchParams.set('room', room);
        history.replaceState(null, '', url);
        $('invite').href = url.href;
        $('invite').textContent = url.href;
        $('room-label').textContent = '#' + room;
        document.title = '#' + room + ' - sseq chat';
        $('messages').textContent = '';
        showError('');
        $('join').hidden = true;
        $('chat').hidden = false;
        setState('connecting');
        connect();
        $('text').focus();
    }

    function leave() {
        closeSource();
        chat.room = null;
        setState('offline');
        $('room-label').textContent = '';
        document.title = 'sseq chat';
        $('chat').hidden = true;
        $('join').hidden = false;
    }

    function onJoin(ev) {
        var nick = $('nick').value.trim();
        var room = $('room').value.trim();
        ev.preventDefault();
        if (!nick || !ROOM_RE.test(room))
            return;
        join(nick, room);
    }

    /* Browser connectivity: show it, and retry at once when it is back. */
    function onOnline() {
        if (chat.room && chat.state !== 'connected') {
            setState('reconnecting');
            connect();
        }
    }

    function onOffline() {
        if (chat.room)
            setState('offline');
    }

    /* Fills the form from ?room= and the stored nickname; joins at once
     * when both are known (an invite link, a reload). */
    function start() {
        var room = new URLSearchParams(location.search).get('room') || '';
        var nick = '';
        try { nick = localStorage.getItem('sseq-chat-nick') || ''; }
        catch (e) { }
        $('nick').value = nick;
        $('room').value = ROOM_RE.test(room) ? room : 'lobby';
        $('join').addEventListener('submit', onJoin);
        $('send').addEventListener('submit', onSend);
        $('leave').addEventListener('click', leave);
        window.addEventListener('online', onOnline);
        window.addEventListener('offline', onOffline);
        if (nick && ROOM_RE.test(room))
            join(nick, room);
        else
            $(nick ? 'room' : 'nick').focus();
    }

    start();
}());
