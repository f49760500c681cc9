// Package salesforce holds what the server knows of Salesforce itself: record
// and org id rules, My Domain hosts, and (later) the OAuth and REST clients.
package salesforce
