package io.sandflow.store;

/** A job store operation failed at the database; the message names the operation and the database's reason. */
public class StoreException extends RuntimeException {

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
