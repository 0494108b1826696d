//! Finding the operation a description asks for, in a document where many
//! operations share the same nouns (as in large payment or CRM APIs): the
//! intended operation must be among the 20 proposed, and the operation the
//! description's verb names should lead.

use serde_json::{Map, json};
use server::generate::budget::Budget;
use server::generate::openapi::{parse_document, prepare, scan};
use server::generate::rank::rank;
use std::time::Duration;

/// Five operations per resource, worded as large public APIs word them,
/// plus a few that mention every resource (which outrank on nouns alone).
fn document() -> String {
    let resources = [
        ("customers", "customer"),
        ("invoices", "invoice"),
        ("charges", "charge"),
        ("subscriptions", "subscription"),
        ("products", "product"),
        ("prices", "price"),
        ("refunds", "refund"),
        ("payouts", "payout"),
        ("notes", "note"),
        ("files", "file"),
    ];
    let mut paths = Map::new();
    for (plural, one) in resources {
        let title = format!("{}{}", one[..1].to_uppercase(), &one[1..]);
        paths.insert(format!("/v1/{plural}"), json!({
            "get": {"operationId": format!("Get{title}s"), "summary": format!("List all {plural}"),
                    "description": format!("Returns a list of your {plural}. The {plural} are returned sorted by creation date.")},
            "post": {"operationId": format!("Post{title}s"), "summary": format!("Create a {one}"),
                     "description": format!("Creates a new {one} object.")},
        }));
        paths.insert(format!("/v1/{plural}/{{id}}"), json!({
            "get": {"operationId": format!("Get{title}"), "summary": format!("Retrieve a {one}"),
                    "description": format!("Retrieves the details of an existing {one}.")},
            "post": {"operationId": format!("Post{title}"), "summary": format!("Update a {one}"),
                     "description": format!("Updates the specified {one} by setting the values of the parameters passed.")},
            "delete": {"operationId": format!("Delete{title}"), "summary": format!("Delete a {one}"),
                       "description": format!("Permanently deletes a {one}. It cannot be undone.")},
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        }));
        paths.insert(format!("/v1/{plural}/search"), json!({
            "get": {"operationId": format!("Get{title}sSearch"), "summary": format!("Search {plural}"),
                    "description": format!("Search for {plural} you've previously created using the search query language.")},
        }));
    }
    // A customer has many sub-resources whose texts say "customer" and
    // "create" more often than the create-a-customer operation itself.
    let subs = [
        "balance_transactions",
        "sources",
        "tax_ids",
        "payment_methods",
        "cash_balance_transactions",
        "funding_instructions",
        "discounts",
        "bank_accounts",
        "cards",
        "subscriptions",
        "invoices",
        "credit_notes",
        "mandates",
        "portal_sessions",
        "usage_records",
        "quotes",
        "checkout_sessions",
        "setup_intents",
        "payment_intents",
        "tax_rates",
        "shipping_addresses",
        "alerts",
        "meters",
        "entitlements",
        "coupons",
    ];
    for sub in subs {
        let words = sub.replace('_', " ");
        paths.insert(format!("/v1/customers/{{customer}}/{sub}/{{id}}"), json!({
            "get": {"operationId": format!("GetCustomersCustomer_{sub}_id"), "summary": format!("Retrieve a customer's {words}"),
                    "description": format!("Retrieves a specific customer {words} object for the customer.")},
            "delete": {"operationId": format!("DeleteCustomersCustomer_{sub}_id"), "summary": format!("Delete a customer's {words}"),
                       "description": format!("Deletes a customer {words} object of the customer.")},
            "parameters": [{"name": "customer", "in": "path", "required": true, "schema": {"type": "string"}},
                           {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        }));
        paths.insert(format!("/v1/customers/{{customer}}/{sub}"), json!({
            "get": {"operationId": format!("GetCustomersCustomer_{sub}"), "summary": format!("List a customer's {words}"),
                    "description": format!("Returns a list of the customer's {words}. The customer's {words} for the customer ID.")},
            "post": {"operationId": format!("PostCustomersCustomer_{sub}"), "summary": format!("Create customer {words}"),
                     "description": format!("Creates customer {words} for a customer. When you create {words} you must specify the customer; create one per customer.")},
            "parameters": [{"name": "customer", "in": "path", "required": true, "schema": {"type": "string"}}],
        }));
    }
    let all = "customers invoices charges subscriptions products prices refunds payouts notes files";
    for (i, name) in ["events", "balance_transactions", "reports"].iter().enumerate() {
        paths.insert(
            format!("/v1/{name}"),
            json!({
                "get": {"operationId": format!("Get{i}"), "summary": format!("List {name}"),
                        "description": format!("Events about {all}, {all}, {all}.")},
            }),
        );
    }
    json!({"openapi": "3.0.0", "info": {"title": "Payments", "version": "1"},
           "servers": [{"url": "https://api.example.com"}], "paths": paths})
    .to_string()
}

#[test]
fn the_intended_operation_is_proposed() {
    let text = document();
    let cases: &[(&str, &str, bool)] = &[
        ("Create customers and look up their invoices", "PostCustomers", true),
        ("Create customers and look up their invoices", "GetInvoices", false),
        ("add a new product", "PostProducts", true),
        ("refund a charge", "PostRefunds", false),
        ("list my subscriptions", "GetSubscriptions", true),
        ("search customers by email", "GetCustomersSearch", true),
        ("delete a note", "DeleteNote", true),
        ("remove files I no longer need", "DeleteFile", true),
        ("update the price of a product", "PostPrice", false),
        ("show the details of a payout", "GetPayout", true),
        ("search, read, add notes", "PostNotes", false),
        ("search, read, add notes", "GetNotesSearch", false),
        ("search, read, add notes", "GetNote", false),
    ];
    let doc = parse_document(&text).unwrap();
    let scanned = scan(&doc, None, &mut Budget::new(Duration::from_secs(10))).unwrap();
    let texts: Vec<&str> = scanned.operations.iter().map(|o| o.text.as_str()).collect();
    let mut hits = 0;
    let mut leads = 0;
    let mut hits_before = 0;
    for &(description, wanted, leads_expected) in cases {
        let prepared = prepare(&text, None, description, 20, &mut Budget::new(Duration::from_secs(10))).unwrap();
        let names: Vec<&str> = prepared.ranked.iter().map(|(op, _)| op.tool.name.as_str()).collect();
        let position = names.iter().position(|n| *n == wanted);
        // What BM25 alone (the ranking before intent words) made of it.
        let before = rank(description, &texts).iter().position(|(i, _)| scanned.operations[*i].name == wanted).unwrap();
        hits_before += usize::from(before < 20);
        println!(
            "{description:<48} {wanted:<20} rank {:>2} (BM25 alone: {})",
            position.map_or("-".into(), |p| (p + 1).to_string()),
            before + 1
        );
        assert!(position.is_some(), "{description}: `{wanted}` is not proposed: {names:?}");
        hits += 1;
        if position == Some(0) {
            leads += 1;
        }
        if leads_expected {
            assert_eq!(position, Some(0), "{description}: `{wanted}` should lead: {names:?}");
        }
    }
    println!(
        "ranking: {hits}/{} proposed, {leads} first (BM25 alone: {hits_before}/{} in the first 20)",
        cases.len(),
        cases.len()
    );
    assert!(hits_before < cases.len(), "the document should be as hard for BM25 alone as real ones are");
}

#[test]
fn deletions_nobody_asked_for_are_not_among_the_first() {
    let text = document();
    let prepared =
        prepare(&text, None, "read and add customers", 20, &mut Budget::new(Duration::from_secs(10))).unwrap();
    let first: Vec<&str> = prepared.ranked.iter().take(3).map(|(op, _)| op.tool.name.as_str()).collect();
    assert!(first.iter().all(|n| !n.starts_with("Delete")), "{first:?}");
    let position = prepared.ranked.iter().position(|(op, _)| op.tool.name == "DeleteCustomer");
    assert!(position.is_none_or(|p| p >= 4), "{position:?}");
}
