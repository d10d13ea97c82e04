package io.sandflow.console;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.function.Function;

/**
 * The console's HTTP endpoints on Camel's management server (platform-http, beside /observe/metrics and
 * /observe/health): the page and its assets from the jar, the JSON API under /console/api/, and the one action.
 * Added only when sandflow.http.port opens the server. Every reply carries headers that keep the page from being
 * framed, sniffed or fed scripts from anywhere but itself.
 */
public final class ConsoleRoutes extends RouteBuilder {

    /** Scripts, styles, images and requests from this server only; no inline script, no frames. */
    static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    static final String CSRF_HEADER = "X-Sandflow-CSRF";

    private final ConsoleApi api;

    public ConsoleRoutes(ConsoleApi api) {
        this.api = api;
    }

    @Override
    public void configure() {
        asset("/", "index.html", "text/html; charset=utf-8", "console-page");
        asset("/console/console.js", "console.js", "text/javascript; charset=utf-8", "console-script");
        asset("/console/console.css", "console.css", "text/css; charset=utf-8", "console-style");
        asset("/console/icon.svg", "icon.svg", "image/svg+xml", "console-icon");
        get("/console/api/state", "console-state", in -> api.state());
        get("/console/api/chart", "console-chart", in -> api.chart());
        get("/console/api/failed", "console-failed", in -> api.failed());
        get("/console/api/results", "console-results", in -> api.results());
        get("/console/api/job", "console-job", in -> api.job(in.getHeader("id", String.class)));
        from("platform-http:/console/api/retry?httpMethodRestrict=POST").routeId("console-retry")
                .process(e -> answer(e, in -> api.retry(in.getHeader("id", String.class),
                        in.getHeader(CSRF_HEADER, String.class), in.getHeader("Origin", String.class),
                        origin(in))));
    }

    private void get(String path, String id, Function<Message, Reply> handler) {
        from("platform-http:" + path + "?httpMethodRestrict=GET").routeId(id).process(e -> answer(e, handler));
    }

    private void asset(String path, String file, String type, String id) {
        byte[] body = resource(file);
        from("platform-http:" + path + "?httpMethodRestrict=GET").routeId(id)
                .process(e -> answer(e, in -> new Reply(200, type, body)));
    }

    /** The URL the request was sent to, with the host it named (Host, or HTTP/2's authority). */
    private static URI requested(Message m) {
        try {
            return URI.create(m.getHeader(Exchange.HTTP_URL, "", String.class));
        } catch (IllegalArgumentException e) {
            return URI.create("http://invalid/");
        }
    }

    /** This server's origin as the request addressed it: what a page of its own sends as Origin. */
    private static String origin(Message m) {
        URI url = requested(m);
        return url.getScheme() + "://" + url.getRawAuthority();
    }

    private static byte[] resource(String file) {
        try (InputStream in = ConsoleRoutes.class.getClassLoader().getResourceAsStream("console/" + file)) {
            if (in == null) {
                throw new IllegalStateException("console/" + file + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends the reply with only the headers set here: platform-http would otherwise echo the request's headers. A
     * request naming a host other than this loopback server's is turned away before anything is read.
     */
    private void answer(Exchange exchange, Function<Message, Reply> handler) {
        Message m = exchange.getMessage();
        Reply r = api.hostAllowed(requested(m).getHost()) ? handler.apply(m)
                : Reply.error(421, "this console answers only requests addressed to its own loopback address");
        m.getHeaders().clear();
        m.setHeader(Exchange.HTTP_RESPONSE_CODE, r.status());
        m.setHeader(Exchange.CONTENT_TYPE, r.contentType());
        m.setHeader("Cache-Control", "no-store");
        m.setHeader("X-Content-Type-Options", "nosniff");
        m.setHeader("Referrer-Policy", "no-referrer");
        m.setHeader("X-Frame-Options", "DENY");
        m.setHeader("Content-Security-Policy", POLICY);
        m.setBody(r.body());
    }
}
