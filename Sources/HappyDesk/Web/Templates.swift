import HTTPTypes
import Hummingbird
import Mustache

/// The HTML templates, embedded so the binary serves pages with no files beside it.
/// `{{…}}` escapes HTML; the templates never use the unescaped `{{{…}}}` form for user text.
public enum Templates {
    public static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        // The templates are constants checked by the tests: a syntax error is a programming error.
        for (name, text) in sources {
            do { try library.register(text, named: name) } catch { preconditionFailure("template \(name): \(error)") }
        }
        return library
    }()

    public static var sources: [String: String] { ["survey": surveyPage, "error": errorTemplate] }

    public static func render(_ object: Any, _ name: String) -> String {
        library.render(object, withTemplate: name) ?? ""
    }

    /// Headers for every survey page: the token is in the URL, so no referrer and no caching.
    public static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        .referrerPolicy: "no-referrer",
        .contentTypeOptions: "nosniff",
        .contentSecurityPolicyHeader:
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ]

    public static func errorPage(title: String, message: String) -> String {
        render(["title": title, "message": message], "error")
    }

    static let style = """
        *{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f4f6f9}
        main{max-width:40rem;margin:0 auto;padding:1rem}h1{font-size:1.35rem;margin:.5rem 0 1rem}
        form,.card{background:#fff;border-radius:.75rem;padding:1rem;box-shadow:0 1px 3px #0002}
        fieldset{border:0;margin:0 0 1.25rem;padding:0}legend,.q{font-weight:600;margin-bottom:.5rem;padding:0}
        .scores{display:grid;grid-template-columns:repeat(11,1fr);gap:.25rem}
        .scores label{position:relative;display:block}.scores input{position:absolute;opacity:0;inset:0;margin:0}
        .scores span{display:block;text-align:center;padding:.6rem 0;border-radius:.4rem;border:1px solid #c5ccd6;font-weight:600;cursor:pointer}
        .scores .negative span{background:#fdecec}.scores .neutral span{background:#fff6e0}.scores .positive span{background:#e6f6ec}
        .scores input:checked+span{outline:3px solid #1f5fbf;background:#1f5fbf;color:#fff}.scores input:focus-visible+span{outline:3px solid #f0a500}
        .ends{display:flex;justify-content:space-between;font-size:.8rem;color:#5a6472;margin-top:.25rem}
        .opts label{display:block;padding:.45rem .25rem;border-bottom:1px solid #eef0f3}.opts input{margin-right:.5rem}
        textarea{width:100%;font:inherit;padding:.5rem;border:1px solid #c5ccd6;border-radius:.4rem}
        button{font:inherit;font-weight:600;background:#1f5fbf;color:#fff;border:0;border-radius:.5rem;padding:.7rem 1.4rem;cursor:pointer}
        .notice{background:#e6f6ec;border-left:4px solid #2e8b57;padding:.6rem .8rem;border-radius:.4rem}.info{background:#e8f0fc;border-color:#1f5fbf}
        .hint,.meta{color:#5a6472;font-size:.9rem}.error{background:#fdecec;border-left:4px solid #c0392b;padding:.6rem .8rem;border-radius:.4rem}
        #thread{margin-top:1rem}.msg{white-space:pre-wrap;border-left:3px solid #c5ccd6;padding-left:.6rem}.msg.mine{border-color:#1f5fbf}
        @media (max-width:30rem){.scores{grid-template-columns:repeat(6,1fr)}}
        """

    /// The start of every requester-facing page: no referrer (the token is in the URL), not indexed.
    static let pageHead = """
        <!doctype html>
        <html lang="{{locale}}">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
        <title>{{title}}</title><style>\(style)</style></head>
        <body><main>
        <h1>{{title}}</h1>
        """

    static let surveyPage = """
        \(pageHead)
        {{#saved}}<p class="notice" role="status">{{ui.thanks}}</p>{{/saved}}
        {{#preselected}}<p class="notice info" role="status">{{ui.confirm}}</p>{{/preselected}}
        <form method="post" action="/s/{{token}}">
        <fieldset><legend id="q-score">{{question}}</legend>
        <div class="scores" role="radiogroup" aria-labelledby="q-score">
        {{#scores}}<label class="{{band}}"><input type="radio" name="score" value="{{value}}" aria-label="{{value}}"{{#checked}} checked{{/checked}} required><span>{{value}}</span></label>{{/scores}}
        </div>
        <div class="ends" aria-hidden="true"><span>{{ui.low}}</span><span>{{ui.high}}</span></div>
        </fieldset>
        {{#bands}}
        <fieldset class="factors opts" data-band="{{band}}"{{^active}} hidden disabled{{/active}}><legend>{{factorQuestion}}</legend>
        {{#factors}}<label><input type="checkbox" name="factors" value="{{id}}"{{#checked}} checked{{/checked}}>{{label}}</label>{{/factors}}
        </fieldset>
        {{/bands}}
        {{#noScore}}<p class="hint" id="hint">{{ui.hint}}</p>{{/noScore}}
        {{#lostTime}}<fieldset class="opts"><legend>{{question}}</legend>
        {{#buckets}}<label><input type="radio" name="lost_time" value="{{id}}"{{#checked}} checked{{/checked}}>{{label}}</label>{{/buckets}}
        </fieldset>{{/lostTime}}
        {{#comment}}<p><label class="q" for="comment">{{question}}</label><br>
        <textarea id="comment" name="comment" rows="4" maxlength="5000">{{text}}</textarea></p>{{/comment}}
        <button type="submit">{{ui.submit}}</button>
        {{#answeredAt}}<p class="meta">{{ui.editable}}</p>{{/answeredAt}}
        </form>
        {{#thread}}<section class="card" id="thread"><h2>Your conversation</h2>
        {{#messages}}<p class="msg{{#mine}} mine{{/mine}}"><b>{{name}}</b> <span class="meta">{{at}}</span><br>{{text}}</p>{{/messages}}
        <form method="post" action="/s/{{token}}/messages"><p><label class="q" for="message">Answer back</label><br>
        <textarea id="message" name="message" rows="3" maxlength="5000" required></textarea></p><button type="submit">Send message</button></form>
        </section>{{/thread}}
        </main>
        <script>
        document.querySelectorAll('input[name=score]').forEach(function(r){r.addEventListener('change',function(){
        var s=+r.value,b=s>=9?'positive':s>=7?'neutral':'negative';
        document.querySelectorAll('fieldset.factors').forEach(function(f){var on=f.dataset.band==b;f.hidden=!on;f.disabled=!on;});
        var h=document.getElementById('hint');if(h)h.hidden=true;});});
        </script>
        </body></html>
        """

    /// `GET /`: what this server is and where to go; fixed text, nothing from a user.
    public static let homePage = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>happydesk</title><style>\(style)</style></head>
        <body><main><h1>happydesk</h1><div class="card">
        <p>Post-closure surveys and happiness reporting for IT service desks.</p>
        <ul><li><a href="/signin">Sign in</a></li><li><a href="/analyst">Analyst page</a>: your feedback, live</li>
        <li><a href="/dashboard">Happiness dashboard</a> (managers)</li>
        <li><code>POST /api/v1/closures</code>: send a resolved ticket; <code>GET /healthz</code>: health</li></ul>
        <p class="meta">Requesters reach their survey through the link in their email.</p>
        </div></main></body></html>
        """

    static let errorTemplate = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="referrer" content="no-referrer"><title>{{title}}</title><style>\(style)</style></head>
        <body><main><h1>{{title}}</h1><p class="error" role="alert">{{message}}</p></main></body></html>
        """
}
