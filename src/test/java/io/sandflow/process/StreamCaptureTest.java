package io.sandflow.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class StreamCaptureTest {

    @Test
    void keepsHeadAndCountsTheRest() {
        StreamCapture capture = new StreamCapture(4, 3);

        capture.drain(new ByteArrayInputStream("abcdefghij".getBytes(StandardCharsets.US_ASCII)));

        assertThat(new String(capture.head(), StandardCharsets.US_ASCII)).isEqualTo("abcd");
        assertThat(capture.total()).isEqualTo(10);
        assertThat(capture.truncated()).isTrue();
        assertThat(capture.tailText()).isEqualTo("hij");
    }

    @Test
    void ringBufferWrapsAcrossSmallWrites() {
        StreamCapture capture = new StreamCapture(0, 5);
        for (String piece : new String[] {"ab", "cd", "ef", "g", "hijk"}) {
            byte[] bytes = piece.getBytes(StandardCharsets.US_ASCII);
            capture.accept(bytes, 0, bytes.length);
        }

        assertThat(capture.tailText()).isEqualTo("ghijk");
        assertThat(capture.head()).isEmpty();
        assertThat(capture.truncated()).isTrue();
    }

    @Test
    void shortOutputIsNotTruncated() {
        StreamCapture capture = new StreamCapture(100, 100);
        byte[] bytes = "short".getBytes(StandardCharsets.US_ASCII);
        capture.accept(bytes, 0, bytes.length);

        assertThat(capture.truncated()).isFalse();
        assertThat(capture.tailText()).isEqualTo("short");
        assertThat(capture.head()).isEqualTo(bytes);
    }

    @Test
    void tailCutInsideACharacterDropsTheOrphanedBytes() {
        byte[] arabic = "سلام".getBytes(StandardCharsets.UTF_8); // 8 bytes, 2 per letter
        StreamCapture capture = new StreamCapture(0, 7);
        capture.accept(arabic, 0, arabic.length);

        assertThat(capture.tailText()).isEqualTo("لام");
    }

    @Test
    void malformedBytesAreReplaced() {
        StreamCapture capture = new StreamCapture(0, 16);
        byte[] bytes = {'o', 'k', (byte) 0xFF, '!'};
        capture.accept(bytes, 0, bytes.length);

        assertThat(capture.tailText()).isEqualTo("ok\uFFFD!");
    }

    @Test
    void zeroTailKeepsNothing() {
        StreamCapture capture = new StreamCapture(0, 0);
        byte[] bytes = "anything".getBytes(StandardCharsets.US_ASCII);
        capture.accept(bytes, 0, bytes.length);

        assertThat(capture.tailText()).isEmpty();
        assertThat(capture.total()).isEqualTo(8);
    }
}
