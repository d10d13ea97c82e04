package io.sandflow.inbox;

import java.util.Locale;

/** Which symbolic links in the inbox are followed to their target ({@code sandflow.intake.follow-links}). */
public enum FollowLinks {
    /** Links whose target's real path lies inside the inbox. */
    INSIDE,
    /** Every link. */
    ANY,
    /** None: every link is failed with a reason. */
    NEVER;

    public static final String SETTING = "sandflow.intake.follow-links";

    /** The setting's value, ignoring case: inside, any or never. */
    public static FollowLinks parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "inside" -> INSIDE;
            case "any" -> ANY;
            case "never" -> NEVER;
            default -> throw new IllegalArgumentException(SETTING + " must be inside, any or never, got '" + value
                    + "'");
        };
    }

    /** The setting as it reads in a reason: {@code sandflow.intake.follow-links=inside}. */
    String setting() {
        return SETTING + "=" + name().toLowerCase(Locale.ROOT);
    }
}
