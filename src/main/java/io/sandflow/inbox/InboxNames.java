package io.sandflow.inbox;

import io.sandflow.result.OutputNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Inbox names as bytes and as text: how a name is shown in one log line, the bytes a name really has, and the
 * renaming of an entry whose name Java or Camel cannot address.
 */
public final class InboxNames {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");

    private InboxNames() {
    }

    /**
     * Gives an entry whose name cannot be addressed a name that can: each undecodable byte, and each backslash,
     * becomes %XX ("caf%E9.json" for Latin-1 "café.json", "a%5Cb.json" for "a\b.json"). The new name is a hard link
     * made next to it that never replaces a file; the old one is removed after. Another node renaming the same entry
     * at the same moment finds the link made and leaves it.
     */
    static void rename(Path inbox, InboxEntries.Entry e) {
        byte[] raw = rawName(e.path());
        String whole = escape(raw);
        String escaped = OutputNames.fit(whole, extensionOf(whole));
        for (int n = 0; n < 1000; n++) {
            Path target = inbox.resolve(n == 0 ? escaped : numbered(escaped, n));
            try {
                Files.createLink(target, e.path());
            } catch (FileAlreadyExistsException taken) {
                if (!sameFile(target, e.path())) {
                    continue;
                }
                // Linked already, by another node or by a run that stopped before the old name went: finish it,
                // or the old name would be linked again once the new one is archived, and run twice
            } catch (NoSuchFileException gone) {
                return;
            } catch (UnsupportedOperationException | IOException cannot) {
                try {
                    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    Files.move(e.path(), target);
                    warnRenamed(e, target);
                } catch (IOException failed) {
                    LOG.warn("inbox entry {}: {}, and it cannot be renamed to {}: {}", display(e.name()), e.why(),
                            target.getFileName(), failed.getMessage());
                }
                return;
            }
            try {
                Files.deleteIfExists(e.path());
            } catch (IOException failed) {
                LOG.warn("inbox entry {}: linked as {} but the old name stays: {}", display(e.name()),
                        target.getFileName(), failed.getMessage());
            }
            warnRenamed(e, target);
            return;
        }
    }

    private static void warnRenamed(InboxEntries.Entry e, Path target) {
        LOG.warn("inbox entry {}: {}; renamed to {} so that it can be processed", display(e.name()), e.why(),
                display(target.getFileName().toString()));
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            Object ka = Files.readAttributes(a, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            Object kb = Files.readAttributes(b, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return ka != null && ka.equals(kb);
        } catch (IOException e) {
            return false;
        }
    }

    private static String numbered(String name, int n) {
        String ext = extensionOf(name);
        String stem = name.substring(0, name.length() - ext.length());
        String insert = "-" + n;
        return OutputNames.truncate(stem, OutputNames.MAX_NAME_BYTES - OutputNames.utf8Length(insert + ext))
                + insert + ext;
    }

    private static String extensionOf(String name) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? "" : name.substring(dot);
    }


    /** A name fit for one log line: line breaks and other control characters shown as escapes. */
    public static String display(String name) {
        StringBuilder out = new StringBuilder(name.length());
        name.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isISOControl(cp)) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", cp));
                    } else {
                        out.appendCodePoint(cp);
                    }
                }
            }
        });
        return out.toString();
    }

    /**
     * The bytes of an entry's name as the file system has them. Java keeps them in the path but shows only a
     * decoded name; its URI form percent-encodes the bytes themselves.
     */
    public static byte[] rawName(Path path) {
        String uri = path.toAbsolutePath().toUri().getRawPath();
        if (uri.endsWith("/")) {
            uri = uri.substring(0, uri.length() - 1);
        }
        String last = uri.substring(uri.lastIndexOf('/') + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < last.length(); i++) {
            char c = last.charAt(i);
            if (c == '%' && i + 2 < last.length()) {
                out.write(HexFormat.fromHexDigits(last, i + 1, i + 3));
                i += 2;
            } else {
                out.write((byte) c);
            }
        }
        return out.toByteArray();
    }

    /** The name as UTF-8 where it is, with each byte that is not, and each backslash, shown as %XX. */
    public static String escape(byte[] raw) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(raw);
        CharBuffer out = CharBuffer.allocate(raw.length * 3 + 4);
        while (true) {
            CoderResult r = decoder.decode(in, out, true);
            if (r.isError()) {
                for (int i = 0; i < r.length(); i++) {
                    out.put(String.format(Locale.ROOT, "%%%02X", in.get() & 0xff));
                }
                continue;
            }
            break;
        }
        decoder.flush(out);
        out.flip();
        return out.toString().replace("\\", "%5C");
    }

    static String hex(byte[] raw) {
        return HexFormat.ofDelimiter(" ").formatHex(raw);
    }
}
