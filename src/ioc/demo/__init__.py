"""The demo province: real places of Hòa Bình, its agencies, users for each role."""
