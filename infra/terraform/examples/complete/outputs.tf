output "smtp_endpoint" {
  description = "Give partners this name (or smtp_ingress_ips) for MM4."
  value       = module.mmsc.smtp_endpoint
}

output "smtp_ingress_ips" {
  description = "Fixed inbound SMTP addresses."
  value       = module.mmsc.smtp_ingress_ips
}

output "egress_ips" {
  description = "Fixed outbound addresses for partner and VASP allowlists."
  value       = module.mmsc.egress_ips
}

output "mm7_url" {
  description = "MM7 endpoint for VASPs."
  value       = module.mmsc.mm7_url
}

output "queue_urls" {
  description = "Work queue URLs."
  value       = module.mmsc.queue_urls
}

output "bucket" {
  description = "Content bucket."
  value       = module.mmsc.bucket
}

output "table" {
  description = "State table."
  value       = module.mmsc.table
}
