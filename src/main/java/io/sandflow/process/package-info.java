/**
 * Runs the agent CLI as a child process with a timeout, bounded output capture and a guarantee that no process
 * of its tree survives the call.
 */
package io.sandflow.process;
