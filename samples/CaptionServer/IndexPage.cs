using ImageCaptioning.Pipeline;

namespace CaptionServer;

/// <summary>
/// The upload page: pick or drop a photo, see it with its caption and, for an attention model, the heat-map strip
/// that the library's HTML report draws (the server renders it with <see cref="AttentionStrip"/>; the page only puts
/// the photo under the thumbnails, as their CSS background).
/// </summary>
internal static class IndexPage
{
    public static string Html { get; } = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Caption a photo</title>
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:60em}
        #drop{border:2px dashed #999;border-radius:8px;padding:2em;text-align:center;color:#555}
        #drop.over{border-color:#0a5;background:#efe}
        #photo{max-width:320px;max-height:320px;display:block;margin:1em 0;background:#eee}
        .generated{font-weight:600;color:#0a5;font-size:1.2em}
        #error{color:#b00}
        """ + AttentionStrip.Style + """

        #strip .thumb{background:var(--photo) center/100% 100% no-repeat,#eee}
        </style></head><body>
        <h1>Caption a photo</h1>
        <div id="drop"><p>Drop a photo here, or pick one:</p><input type="file" id="file" accept="image/*"></div>
        <p id="status" aria-live="polite"></p>
        <p id="error" role="alert"></p>
        <div id="result" hidden>
        <img id="photo" alt="the photo">
        <div id="caption" class="generated"></div>
        <small id="score"></small>
        <div id="strip"></div>
        </div>
        <script>
        const $ = id => document.getElementById(id);
        let shown = null;
        async function send(file) {
          $('error').textContent = '';
          $('status').textContent = 'Captioning ' + file.name + '…';
          document.body.dataset.state = 'sending';
          try {
            const answer = await fetch('captions?strip=true', { method: 'POST', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } });
            const body = await answer.json().catch(() => ({}));
            if (!answer.ok) throw new Error(body.detail || (answer.status + ' ' + answer.statusText));
            if (shown) URL.revokeObjectURL(shown);
            shown = URL.createObjectURL(file);
            $('photo').src = shown;
            $('caption').textContent = body.caption;
            const score = body.logProbability === null ? 'no score' : 'log-probability ' + body.logProbability.toFixed(3);
            $('score').textContent = score + ' · ' + body.decoding.strategy + ' · ' + body.model;
            $('strip').innerHTML = body.strip || '';
            $('strip').style.setProperty('--photo', 'url("' + shown + '")');
            $('result').hidden = false;
            $('status').textContent = '';
            document.body.dataset.state = 'captioned';
          } catch (e) {
            $('status').textContent = '';
            $('error').textContent = e.message;
            document.body.dataset.state = 'failed';
          }
        }
        $('file').addEventListener('change', e => { if (e.target.files.length) send(e.target.files[0]); });
        const drop = $('drop');
        drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
        drop.addEventListener('dragleave', () => drop.classList.remove('over'));
        drop.addEventListener('drop', e => { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer.files.length) send(e.dataTransfer.files[0]); });
        </script>
        </body></html>
        """;
}
