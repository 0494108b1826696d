//! `/api/v1/targets` (the owner's machines) and the hosting operations under
//! `/api/v1/servers/{id}/vps/...` (paid tier). Operations run in the
//! background: poll `GET /api/v1/operations/{id}` for their steps.

use super::api::{ApiJson, ErrorBody};
use crate::error::ApiError;
use crate::services::Services;
use app::vps::{
    DeployToTarget, HostingView, OperationView, RegisterTarget, ReleaseView, StepView, TargetCheck, TargetView,
    TrustHostKey,
};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn router() -> Router<super::AppState> {
    Router::new()
        .route("/targets", get(list_targets).post(register_target))
        .route("/targets/{id}", get(get_target).delete(delete_target))
        .route("/targets/{id}/check", post(check_target))
        .route("/targets/{id}/trust", post(trust_target))
        .route("/servers/{id}/hosting", get(hosting))
        .route("/servers/{id}/vps/deploy", post(deploy))
        .route("/servers/{id}/vps/rollback", post(rollback))
        .route("/servers/{id}/vps/stop", post(stop))
        .route("/servers/{id}/vps/start", post(start))
        .route("/servers/{id}/vps/remove", post(remove))
        .route("/servers/{id}/vps/logs", get(logs))
        .route("/operations/{id}", get(operation))
}

/// Your machines.
#[utoipa::path(get, path = "/api/v1/targets", tag = "vps",
    responses((status = 200, body = Vec<TargetView>)), security(("bearer" = []), ("session" = [])))]
async fn list_targets(State(s): State<Services>, headers: HeaderMap) -> Result<Json<Vec<TargetView>>, ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok(Json(s.machines.targets(&caller).await?))
}

/// Registers a machine (paid tier). A key pair is generated unless
/// `private_key` is given; add `public_key` to the user's authorized_keys.
#[utoipa::path(post, path = "/api/v1/targets", tag = "vps", request_body = RegisterTarget,
    responses((status = 201, body = TargetView), (status = 403, description = "Free tier", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn register_target(
    State(s): State<Services>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterTarget>,
) -> Result<(StatusCode, Json<TargetView>), ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok((StatusCode::CREATED, Json(s.machines.register_target(&caller, body).await?)))
}

#[utoipa::path(get, path = "/api/v1/targets/{id}", tag = "vps", params(("id" = String, Path)),
    responses((status = 200, body = TargetView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn get_target(
    State(s): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TargetView>, ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok(Json(s.machines.target(&caller, &id).await?))
}

/// Removes a machine no server is hosted on.
#[utoipa::path(delete, path = "/api/v1/targets/{id}", tag = "vps", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn delete_target(
    State(s): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = s.require_user(&headers).await?;
    s.machines.delete_target(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Connects and shows the host key (to confirm), the platform and the supervisor.
#[utoipa::path(post, path = "/api/v1/targets/{id}/check", tag = "vps", params(("id" = String, Path)),
    responses((status = 200, body = TargetCheck), (status = 422, description = "Cannot connect, or the platform does not match", body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn check_target(
    State(s): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TargetCheck>, ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok(Json(s.machines.check_target(&caller, &id).await?))
}

/// Pins the host key shown by a check; a different key later refuses to connect.
#[utoipa::path(post, path = "/api/v1/targets/{id}/trust", tag = "vps", params(("id" = String, Path)),
    request_body = TrustHostKey, responses((status = 200, body = TargetView), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn trust_target(
    State(s): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TrustHostKey>,
) -> Result<Json<TargetView>, ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok(Json(s.machines.trust_target(&caller, &id, body).await?))
}

/// Where a server runs, its releases and its last operation.
#[utoipa::path(get, path = "/api/v1/servers/{id}/hosting", tag = "vps", params(("id" = String, Path)),
    responses((status = 200, body = HostingView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn hosting(
    State(s): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<HostingView>, ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok(Json(s.machines.hosting(&caller, &id).await?))
}

/// Deploys a new release to a machine; `/mcp/{slug}` forwards to it once healthy.
#[utoipa::path(post, path = "/api/v1/servers/{id}/vps/deploy", tag = "vps", params(("id" = String, Path)),
    request_body = DeployToTarget,
    responses((status = 202, description = "Started; poll the operation", body = OperationView),
        (status = 403, description = "Free tier", body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn deploy(
    State(s): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeployToTarget>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok((StatusCode::ACCEPTED, Json(s.machines.vps_deploy(&caller, &id, body).await?)))
}

macro_rules! operation_endpoint {
    ($name:ident, $method:ident, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "vps", params(("id" = String, Path)),
            responses((status = 202, body = OperationView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
            security(("bearer" = []), ("session" = [])))]
        async fn $name(
            State(s): State<Services>,
            headers: HeaderMap,
            Path(id): Path<String>,
        ) -> Result<(StatusCode, Json<OperationView>), ApiError> {
            let caller = s.require_user(&headers).await?;
            Ok((StatusCode::ACCEPTED, Json(s.machines.$method(&caller, &id).await?)))
        }
    };
}

operation_endpoint!(rollback, vps_rollback, "/api/v1/servers/{id}/vps/rollback", "Serves the previous release again.");
operation_endpoint!(stop, vps_stop, "/api/v1/servers/{id}/vps/stop", "Stops the serving release.");
operation_endpoint!(start, vps_start, "/api/v1/servers/{id}/vps/start", "Starts the current release again.");
operation_endpoint!(
    remove,
    vps_remove,
    "/api/v1/servers/{id}/vps/remove",
    "Stops every release and deletes the server's files from the machine."
);

/// The last 100 lines of the serving release's log.
#[utoipa::path(get, path = "/api/v1/servers/{id}/vps/logs", tag = "vps", params(("id" = String, Path)),
    responses((status = 200, description = "Plain text", body = String), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn logs(State(s): State<Services>, headers: HeaderMap, Path(id): Path<String>) -> Result<String, ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok(s.machines.vps_logs(&caller, &id).await?)
}

/// An operation and its steps so far.
#[utoipa::path(get, path = "/api/v1/operations/{id}", tag = "vps", params(("id" = String, Path)),
    responses((status = 200, body = OperationView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn operation(
    State(s): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<OperationView>, ApiError> {
    let caller = s.require_user(&headers).await?;
    Ok(Json(s.machines.operation(&caller, &id).await?))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_targets,
        register_target,
        get_target,
        delete_target,
        check_target,
        trust_target,
        hosting,
        deploy,
        rollback,
        stop,
        start,
        remove,
        logs,
        operation
    ),
    components(schemas(
        TargetView,
        RegisterTarget,
        TargetCheck,
        TrustHostKey,
        DeployToTarget,
        HostingView,
        OperationView,
        StepView,
        ReleaseView
    ))
)]
pub struct VpsDoc;
