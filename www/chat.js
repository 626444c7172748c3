/* chat.js -- the sseq chat room in the browser.
 *
 * A room NAME is the sseq channel "chat.NAME" (the demo config opens
 * chat.* to anonymous publishing). Joining opens an SseqSource (sseq.js)
 * on /events?channel=chat.NAME&backlog=50 (the last 50 messages, then
 * live ones); a message is sent with fetch POST /publish/chat.NAME as JSON
 * {"data": {"nick", "text", "ts"}}.
 *
 * sseq.js shares one connection among all tabs showing the same room,
 * reconnects after any transient error and resumes after the last id it
 * delivered, so what was sent meanwhile is shown, once. Ids only grow, so
 * a message whose id is not above the last one shown would be a
 * duplicate: it is not shown, and counted in sseqChat.dupes.
 *
 * Who is online (when the hub has mercure.subscriptions on and the page
 * gets a presence token from GET /chat/presence-token, as in the demo):
 * joining also subscribes on the Mercure hub to the topic
 * "chat.NAME.who.NICK" (the nickname is in the subscription's own
 * topic: a join message that leaves by itself when the connection ends)
 * and to the private subscription updates of the room's such topics.
 * Once that stream is open, GET /.well-known/mercure/subscriptions gives
 * who is there and a lastEventID; updates after it add and remove
 * subscribers. sseq.js shares the hub stream among the tabs of a room
 * and nickname too, so a browser with many tabs counts once.
 *
 * Every text from the network goes into the page as textContent, never as
 * HTML. window.sseqChat exposes the state for the browser test.
 */
import { SseqSource, eventsUrl, mercureUrl } from './sseq.js';

(function () {
    var CHANNEL_PREFIX = 'chat.';
    var ROOM_RE = /^[A-Za-z0-9_-]{1,40}$/;
    var BACKLOG = 50;
    var MAX_SHOWN = 500;           /* older messages leave the page */
    var STATUS_TEXT = {            /* when a reply carries no reason */
        400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
        404: 'Not Found', 405: 'Method Not Allowed',
        413: 'Payload Too Large', 415: 'Unsupported Media Type',
        429: 'Too Many Requests', 500: 'Internal Server Error',
        502: 'Bad Gateway', 503: 'Service Unavailable',
        504: 'Gateway Timeout'
    };

    var PRESENCE_TOKEN = '/chat/presence-token';
    var SUBSCRIPTIONS = '/.well-known/mercure/subscriptions';

    var chat = {
        room: null, nick: null, source: null, lastId: null,
        state: 'offline', states: ['offline'], dupes: 0, shown: 0,
        failures: 0, sending: false, online: null
    };
    /* The room's presence: subscribers (id -> nickname) from the API's
     * snapshot and the updates after it (held in early until then). */
    var presence = {
        source: null, token: null, gen: 0, ready: false, loading: false,
        early: [], prefix: '', subs: new Map()
    };
    window.sseqChat = chat;

    function $(id) { return document.getElementById(id); }

    function channel() { return CHANNEL_PREFIX + chat.room; }

    /* Shows the connection state: connecting (first time), connected,
     * reconnecting, offline (the browser has no network), closed. */
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
    function onGap() {
        showNotice('Some messages were missed while you were away: ' +
                   'the server no longer keeps them.');
    }

    /* Shows the stream's state (offline while the browser has no
     * network). */
    function showState() {
        var s = chat.source ? chat.source.state : 'closed';
        if (!chat.room)
            return;
        if (!navigator.onLine && s !== 'closed')
            s = 'offline';
        setState(s === 'open' ? 'connected' : s);
    }

    function onStateChange(ev) {
        if (ev.target !== chat.source)
            return;
        if (ev.state === 'open')
            chat.failures = 0;
        showState();
    }

    /* A failed attempt: counted; sseq.js retries by itself, except on an
     * answer that no retry can change (then the state is closed). */
    function onError(ev) {
        if (ev.target !== chat.source)
            return;
        chat.failures++;
        if (ev.fatal)
            showNotice('The server refused the stream (' + ev.status +
                       '): reload the page to try again.');
    }

    /* ---- who is online ---- */

    /* Adds or removes the subscriber of a subscription document, if it
     * is one of the room's presence topics. */
    function presenceApply(doc) {
        if (!doc || doc.type !== 'Subscription' ||
            typeof doc.topic !== 'string' ||
            doc.topic.indexOf(presence.prefix) !== 0 ||
            doc.topic.length === presence.prefix.length)
            return;
        if (doc.active)
            presence.subs.set(doc.subscriber,
                              doc.topic.slice(presence.prefix.length));
        else
            presence.subs.delete(doc.subscriber);
    }

    /* Shows the nicknames online, one a subscriber (a connection). */
    function showOnline() {
        var list = $('people');
        var nicks = Array.from(presence.subs.values()).sort();
        chat.online = nicks;
        list.textContent = '';
        nicks.forEach(function (n) {
            var li = document.createElement('li');
            li.textContent = n;
            if (n === chat.nick)
                li.className = 'me';
            list.appendChild(li);
        });
        $('online-count').textContent = String(nicks.length);
        $('online').hidden = false;
    }

    /* Whether hub id a (decimal) comes after b ("earliest": all do). */
    function after(a, b) {
        if (b === 'earliest' || !/^[0-9]+$/.test(a) || !/^[0-9]+$/.test(b))
            return true;
        return BigInt(a) > BigInt(b);
    }

    function onPresence(ev) {
        var doc;
        if (ev.target !== presence.source)
            return;
        try { doc = JSON.parse(ev.data); } catch (e) { return; }
        if (!presence.ready) {
            presence.early.push({ id: ev.lastEventId, doc: doc });
            return;
        }
        presenceApply(doc);
        showOnline();
    }

    /* Reads who is there (the subscription API), then applies the
     * updates that came after its lastEventID. */
    function presenceLoad(gen) {
        fetch(SUBSCRIPTIONS, {
            headers: { Authorization: 'Bearer ' + presence.token },
            cache: 'no-store'
        }).then(function (res) {
            if (!res.ok)
                throw new Error('subscription API: ' + res.status);
            return res.json();
        }).then(function (doc) {
            if (gen !== presence.gen)
                return;
            presence.subs.clear();
            doc.subscriptions.forEach(presenceApply);
            presence.early.forEach(function (e) {
                if (after(e.id, doc.lastEventID))
                    presenceApply(e.doc);
            });
            presence.early = [];
            presence.ready = true;
            showOnline();
        }).catch(function () { /* no presence: the list stays hidden */ });
    }

    function onPresenceState(ev) {
        if (ev.target === presence.source && ev.state === 'open' &&
            !presence.ready && !presence.loading) {
            presence.loading = true;
            presenceLoad(presence.gen);
        }
    }

    /* Opens the room's presence stream (when the page gets a token). */
    function presenceStart() {
        var gen = ++presence.gen;
        var who = CHANNEL_PREFIX + chat.room + '.who.';
        fetch(PRESENCE_TOKEN, { cache: 'no-store' }).then(function (res) {
            return res.ok ? res.text() : null;
        }).then(function (token) {
            var es;
            if (!token || gen !== presence.gen)
                return;
            presence.token = token.trim();
            presence.prefix = who;
            es = new SseqSource(mercureUrl([who + chat.nick,
                SUBSCRIPTIONS + '/' + who + '{nick}/{subscriber}']),
                { token: presence.token });
            presence.source = es;
            es.onmessage = onPresence;
            es.onstatechange = onPresenceState;
        }).catch(function () { });
    }

    function presenceStop() {
        presence.gen++;
        if (presence.source)
            presence.source.close();
        presence.source = null;
        presence.ready = presence.loading = false;
        presence.early = [];
        presence.subs.clear();
        chat.online = null;
        $('online').hidden = true;
    }

    function closeSource() {
        if (chat.source) {
            chat.source.close();
            chat.source = null;
        }
    }

    /* Opens the event stream of the current room (history first). */
    function connect() {
        var es;
        closeSource();
        es = new SseqSource(eventsUrl(channel(), { backlog: BACKLOG }));
        chat.source = es;
        es.onmessage = onMessage;
        es.ongap = onGap;
        es.onstatechange = onStateChange;
        es.onerror = onError;
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
        presenceStop();
        presenceStart();
        $('text').focus();
    }

    function leave() {
        closeSource();
        presenceStop();
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
        /* sseq.js retries at once when the network is back */
        window.addEventListener('online', showState);
        window.addEventListener('offline', showState);
        if (nick && ROOM_RE.test(room))
            join(nick, room);
        else
            $(nick ? 'room' : 'nick').focus();
    }

    start();
}());
