/// The analyst page's markup, style and script. Every piece of user text is inserted with
/// `textContent` (script) or `{{…}}` (Mustache), never as HTML.
enum AnalystPageTemplate {
    static let html = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="robots" content="noindex"><title>happydesk · your feedback</title>
        <style>
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f4f6f9}
        header{display:flex;align-items:center;gap:1rem;background:#1f3b63;color:#fff;padding:.6rem 1rem}header h1{font-size:1.1rem;margin:0;flex:1}
        main{max-width:60rem;margin:0 auto;padding:1rem}.card{background:#fff;border-radius:.6rem;padding:.8rem 1rem;margin:0 0 .8rem;box-shadow:0 1px 3px #0002}
        button{font:inherit;font-weight:600;background:#1f5fbf;color:#fff;border:0;border-radius:.4rem;padding:.4rem .9rem;cursor:pointer}
        button.ghost{background:#e8edf4;color:#1d2430}textarea,input[type=password]{width:100%;font:inherit;padding:.4rem;border:1px solid #c5ccd6;border-radius:.4rem}
        .score{display:inline-block;min-width:2.2rem;text-align:center;font-weight:700;border-radius:.4rem;padding:.1rem .4rem;margin-right:.4rem}
        .positive{background:#e6f6ec}.neutral{background:#fff6e0}.negative{background:#fdecec}.meta{color:#5a6472;font-size:.85rem}
        .tags span{display:inline-block;background:#eef1f6;border-radius:1rem;padding:0 .6rem;margin:.15rem .25rem 0 0;font-size:.85rem}
        .flag{background:#c0392b;color:#fff;border-radius:.3rem;padding:0 .4rem;font-size:.8rem;margin-left:.4rem}
        .thread{border-left:3px solid #dfe4ea;margin:.5rem 0;padding-left:.7rem}.thread p{margin:.25rem 0}.who{font-weight:600}
        .kudos{background:#fff8d6;border-radius:.4rem;padding:.3rem .6rem;margin:.3rem 0}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.8rem}
        .big{font-size:1.8rem;font-weight:700}#status{font-size:.85rem}.error{background:#fdecec;border-left:4px solid #c0392b;padding:.5rem .8rem;border-radius:.4rem}
        </style></head><body>
        {{#signedIn}}
        {{{header}}}
        <header><h1>Your feedback</h1><span id="who">{{name}} · {{role}}</span><span id="status" role="status">connecting…</span></header>
        <main id="app" data-labels="{{labels}}" data-manager="{{#manager}}1{{/manager}}">
        <section class="grid" id="picture">
        <div class="card"><div class="meta">Happiness, last 30 days</div><div class="big" id="h-now">…</div><div class="meta" id="h-now-n"></div></div>
        <div class="card"><div class="meta">The 30 days before</div><div class="big" id="h-before">…</div><div class="meta" id="h-before-n"></div></div>
        <div class="card"><div class="meta">People praise you for</div><div class="tags" id="praised"></div></div>
        </section>
        <section class="card"><h2>Kudos and thank-you notes</h2><div id="kudos"></div><div id="thanks"></div></section>
        <h2>Live feedback</h2><div id="feed"><p class="meta" id="empty">Nothing yet: new feedback appears here the moment it arrives.</p></div>
        </main>
        <script>
        (function(){
        var app=document.getElementById('app'),labels=JSON.parse(app.dataset.labels||'{}'),manager=app.dataset.manager==='1';
        var feed=document.getElementById('feed'),statusEl=document.getElementById('status'),last=0,ws=null,refs={},seq=0;
        function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=String(text);return e;}
        function band(s){return s>=9?'positive':s>=7?'neutral':'negative';}
        function happy(p,id){document.getElementById(id).textContent=p.happiness==null?'too few responses':(p.happiness>0?'+':'')+p.happiness;
        document.getElementById(id+'-n').textContent=p.responses+' responses';}
        function picture(){fetch('/api/v1/me',{credentials:'same-origin'}).then(function(r){return r.json();}).then(function(s){
        happy(s.last_30_days,'h-now');happy(s.previous_30_days,'h-before');
        var pr=document.getElementById('praised');pr.textContent='';s.praised_factors.forEach(function(f){pr.appendChild(el('span',null,f.label+' ×'+f.count));});
        if(!s.praised_factors.length)pr.textContent='—';
        var k=document.getElementById('kudos');k.textContent='';s.kudos.forEach(function(x){k.appendChild(el('div','kudos','★ '+x.from_name+' on '+(x.ticket_id||'an anonymous answer')+': '+x.text));});
        var t=document.getElementById('thanks');t.textContent='';s.thanks.forEach(function(x){t.appendChild(el('p',null,'“'+x.comment+'” ('+x.score+'/10, '+(x.ticket_id||'anonymous')+')'));});
        }).catch(function(){});}
        function card(id){var c=document.getElementById('r-'+id);if(c)return c;
        c=el('article','card');c.id='r-'+id;c.dataset.responseId=id;
        c.appendChild(el('div','head'));c.appendChild(el('div','tags'));c.appendChild(el('p','comment'));c.appendChild(el('div','kudolist'));
        var th=el('div','thread');c.appendChild(th);
        var ta=el('textarea');ta.rows=2;ta.maxLength=5000;ta.placeholder='Reply to the requester…';ta.className='reply-text';c.appendChild(ta);
        var bar=el('p');var rb=el('button','reply','Reply');rb.type='button';rb.onclick=function(){var v=ta.value.trim();if(!v)return;send({type:'reply',response_id:id,text:v},function(ok){if(ok)ta.value='';});};
        bar.appendChild(rb);bar.appendChild(document.createTextNode(' '));
        var ab=el('button','ghost ack','Acknowledge');ab.type='button';ab.onclick=function(){send({type:'ack',response_id:id},function(ok){if(ok){var f=c.querySelector('.flag');if(f)f.remove();ab.textContent='Acknowledged';}});};bar.appendChild(ab);
        if(manager){bar.appendChild(document.createTextNode(' '));var kb=el('button','ghost','Give kudos');kb.type='button';kb.onclick=function(){var v=ta.value.trim()||'Great work!';send({type:'kudos',response_id:id,text:v},function(ok){if(ok)ta.value='';});};bar.appendChild(kb);}
        c.appendChild(bar);
        var e=document.getElementById('empty');if(e)e.remove();feed.insertBefore(c,feed.firstChild);
        // The replay from ?after=0 carries every message.created, so the thread builds itself from the stream.
        return c;}
        function msg(c,m){var th=c.querySelector('.thread');if(th.querySelector('[data-mid="'+m.message_id+'"]'))return;
        var p=el('p');p.dataset.mid=m.message_id;p.appendChild(el('span','who',(m.author==='analyst'?(m.author_name||'Analyst'):(m.author_name||'Requester'))+': '));p.appendChild(el('span',null,m.text));th.appendChild(p);}
        function response(d){var c=card(d.response_id),h=c.querySelector('.head');h.textContent='';
        h.appendChild(el('span','score '+band(d.score),d.score));h.appendChild(el('strong',null,d.ticket_id||'Anonymous'));
        h.appendChild(el('span','meta',' · '+(d.service||'')+' · '+(d.requester_name||'requester')+' · '+new Date(d.last_changed_at).toLocaleString()));
        if(d.follow_up)h.appendChild(el('span','flag','not solved: follow up'));
        var t=c.querySelector('.tags');t.textContent='';(d.factors||[]).forEach(function(f){t.appendChild(el('span',null,labels[f]||f));});
        if(d.lost_time)t.appendChild(el('span',null,'lost time: '+(labels['lost:'+d.lost_time]||d.lost_time)));
        c.querySelector('.comment').textContent=d.comment||'';feed.insertBefore(c,feed.firstChild);}
        function send(frame,done){if(!ws||ws.readyState!==1){statusEl.textContent='not connected';return;}frame.ref='r'+(++seq);refs[frame.ref]=done;ws.send(JSON.stringify(frame));}
        function connect(){var proto=location.protocol==='https:'?'wss:':'ws:';ws=new WebSocket(proto+'//'+location.host+'/api/v1/stream?after='+last);
        ws.onopen=function(){statusEl.textContent='live';statusEl.dataset.state='live';};
        ws.onmessage=function(ev){var m=JSON.parse(ev.data);
        if(m.id&&m.id>last)last=m.id;
        if(m.type==='response.created'||m.type==='response.updated'){response(m.data);}
        else if(m.type==='message.created'){msg(card(m.data.response_id),m.data);}
        else if(m.type==='kudos.created'){card(m.data.response_id).querySelector('.kudolist').appendChild(el('div','kudos','★ '+m.data.from_name+': '+m.data.text));picture();}
        else if(m.type==='ok'||m.type==='error'){var cb=refs[m.ref];delete refs[m.ref];if(m.type==='error')statusEl.textContent='error: '+m.message;if(cb)cb(m.type==='ok');}};
        ws.onclose=function(ev){if(ev.code===1008&&/sign in/.test(ev.reason||'')){location.reload();return;}statusEl.dataset.state='closed';statusEl.textContent='reconnecting…'+(ev.reason?' ('+ev.reason+')':'');setTimeout(connect,1500);};}
        picture();connect();
        })();
        </script>
        {{/signedIn}}
        </body></html>
        """#
}
